// The replay viewer: rrweb's Replayer rebuilds the recorded page inside an iframe sandboxed
// with "allow-same-origin" only — never "allow-scripts" — so nothing recorded can run.
// Chunks load one after another: playback starts with the first full snapshot while the
// rest of a long recording is still arriving.
import { Replayer } from "@rrweb/replay";
import "@rrweb/replay/dist/style.css";

const FULL_SNAPSHOT = 2;
const SAFE_SANDBOX = "allow-same-origin";

const $ = (id) => document.getElementById(id);

function clock(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return h ? h + ":" + String(m).padStart(2, "0") + ":" + s : m + ":" + s;
}

async function fetchChunk(chunk) {
  const response = await fetch(chunk.url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error("chunk " + chunk.seq + " answered " + response.status);
  return response.json();
}

function say(text) {
  const status = $("player-status");
  if (status) status.textContent = text;
}

async function main() {
  const data = JSON.parse($("player-data").textContent);
  const stage = $("player-stage");
  const seek = $("player-seek");
  const playButton = $("player-play");
  const time = $("player-time");
  const loaded = $("player-loaded");
  const chunks = data.chunks;
  if (!chunks.length) return say("This recording holds no events.");

  // Enough to start: events up to and including a full snapshot.
  let events = [];
  let next = 0;
  while (next < chunks.length && !events.some((e) => e.type === FULL_SNAPSHOT)) {
    events = events.concat(await fetchChunk(chunks[next++]));
  }
  events.sort((a, b) => a.timestamp - b.timestamp);
  if (events.length < 2 || !events.some((e) => e.type === FULL_SNAPSHOT)) {
    return say("This recording has no snapshot of the page to play.");
  }

  const replayer = new Replayer(events, {
    root: stage,
    skipInactive: $("player-skip").checked,
    speed: 1,
    blockClass: "sl-block",
    mouseTail: false,
    showWarning: false,
    UNSAFE_replayCanvas: false,
  });
  // The sandbox is fixed when the frame is created: a frame that could run scripts is
  // not used at all, whatever produced it.
  if (replayer.iframe.getAttribute("sandbox") !== SAFE_SANDBOX) {
    replayer.destroy();
    return say("The player could not isolate the recorded page; it is not shown.");
  }
  window.sightlinePlayer = replayer;
  $("player-status").remove();

  let playing = false;
  // The recording's length is known before its later chunks arrive: the timeline never
  // grows while loading, and reads the same as the page's header.
  const total = () => Math.max(data.duration, replayer.getMetaData().totalTime);
  const fit = () => {
    const iframe = replayer.iframe;
    const width = parseFloat(iframe.width) || 1;
    const height = parseFloat(iframe.height) || 1;
    const scale = Math.min(1, stage.clientWidth / width);
    replayer.wrapper.style.transform = "scale(" + scale + ")";
    replayer.wrapper.style.transformOrigin = "0 0";
    stage.style.height = Math.ceil(height * scale) + "px";
  };
  replayer.on("resize", fit);
  addEventListener("resize", fit);

  function setPlaying(value) {
    playing = value;
    playButton.textContent = value ? "Pause" : "Play";
  }

  function goTo(ms) {
    const t = Math.max(0, Math.min(ms, total()));
    if (playing) replayer.play(t);
    else replayer.pause(t);
    render();
  }

  function render() {
    const now = replayer.getCurrentTime();
    seek.max = String(total());
    seek.value = String(now);
    time.textContent = clock(now) + " / " + clock(total());
  }

  function placeMarkers() {
    const box = $("player-markers");
    box.textContent = "";
    const length = total() || 1;
    for (const marker of data.markers) {
      const tick = document.createElement("button");
      tick.type = "button";
      tick.className = "player-marker marker-" + marker.kind;
      tick.title = marker.time + " · " + marker.label;
      tick.setAttribute("aria-label", tick.title);
      tick.style.left = Math.min(100, (marker.offset / length) * 100) + "%";
      tick.addEventListener("click", () => goTo(marker.offset));
      box.appendChild(tick);
    }
  }

  playButton.disabled = false;
  playButton.addEventListener("click", () => {
    if (playing) {
      replayer.pause();
      setPlaying(false);
    } else {
      const now = replayer.getCurrentTime();
      setPlaying(true);
      replayer.play(now >= total() ? 0 : now);
    }
  });
  replayer.on("finish", () => setPlaying(false));
  seek.addEventListener("input", () => goTo(Number(seek.value)));
  $("player-speed").addEventListener("change", (e) => replayer.setConfig({ speed: Number(e.target.value) }));
  $("player-skip").addEventListener("change", (e) => replayer.setConfig({ skipInactive: e.target.checked }));
  for (const item of document.querySelectorAll("#player-events [data-offset]")) {
    item.addEventListener("click", () => goTo(Number(item.getAttribute("data-offset"))));
  }

  replayer.pause(0);
  fit();
  placeMarkers();
  render();
  (function tick() {
    if (playing) render();
    requestAnimationFrame(tick);
  })();

  // The rest of the recording, in order, while the first part already plays.
  for (; next < chunks.length; next++) {
    loaded.textContent = "Loading " + (next + 1) + " of " + chunks.length + "…";
    try {
      for (const event of await fetchChunk(chunks[next])) replayer.addEvent(event);
    } catch (e) {
      loaded.textContent = "Part of the recording could not be loaded.";
      return;
    }
    placeMarkers();
    render();
  }
  loaded.textContent = "";
  document.body.setAttribute("data-player-ready", "");
}

main().catch(() => say("The recording could not be loaded."));
