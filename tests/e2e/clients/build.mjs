// Bundles the third-party clients the browser tests drive (posthog-js, analytics-next)
// into tests/e2e/clients/dist; not part of Sightline's own bundles.
import * as esbuild from "esbuild";

for (const name of ["posthog_page", "segment_page"]) {
  await esbuild.build({
    entryPoints: [`tests/e2e/clients/${name}.js`],
    outfile: `tests/e2e/clients/dist/${name}.js`,
    bundle: true,
    minify: true,
    format: "iife",
    target: ["es2017"],
    legalComments: "none",
    logLevel: "warning",
  });
}
