// Builds every browser bundle into static/dist (ignored by git, served at /static/).
import * as esbuild from "esbuild";

const bundles = [
  // The app UI's small enhancements (copy buttons, live polling helpers).
  { entryPoints: ["static/js/app.js"], outfile: "static/dist/app.js" },
  // The segment builder: switches between a window's days and dates, events and actions.
  { entryPoints: ["static/js/segment_builder.js"], outfile: "static/dist/segment_builder.js" },
  // The capture snippet customers install: <script src="/static/sightline.js" data-key="pk_…" defer>.
  { entryPoints: ["tracking/js/sightline.js"], outfile: "static/dist/sightline.js" },
  // The Tasklane demo site's own behaviour (board tabs, pricing toggle), not part of the snippet.
  { entryPoints: ["demo/js/site.js"], outfile: "static/dist/demo.js" },
  // The session recorder (rrweb), loaded lazily by the snippet for recorded sessions only.
  { entryPoints: ["replay/js/recorder.js"], outfile: "static/dist/recorder.js" },
  // In-app nudges and surveys, loaded lazily by the snippet when the decide answer has some.
  { entryPoints: ["interventions/js/engage.js"], outfile: "static/dist/engage.js" },
  // The replay viewer (rrweb's Replayer and its stylesheet, static/dist/player.css).
  { entryPoints: ["replay/js/player.js"], outfile: "static/dist/player.js" },
];

const common = { bundle: true, minify: true, format: "iife", target: ["es2017"], legalComments: "none", logLevel: "info" };
const watch = process.argv.includes("--watch");

for (const bundle of bundles) {
  const options = { ...common, ...bundle };
  if (watch) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
  } else {
    await esbuild.build(options);
  }
}
