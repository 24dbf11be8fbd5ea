// The extension point for features configured by the decide answer — the session
// recorder (`answer.recording`), in-app nudges and surveys (`answer.nudges`,
// `answer.surveys`). They stay out of the core bundle: each registers a hook here that
// inspects the answer and loads its own code lazily when the answer asks for it.

const hooks = [];
let lastAnswer = null;

/** `hook(answer, api)` runs for every decide answer; registered late, it sees the latest at once. */
export function onDecide(hook) {
  hooks.push(hook);
  if (lastAnswer) runHook(hook);
}

function runHook(hook) {
  try {
    hook(lastAnswer.answer, lastAnswer.api);
  } catch (e) {
    // one broken extension must not stop capture or the others
  }
}

export function decided(answer, api) {
  lastAnswer = { answer, api };
  hooks.forEach(runHook);
}
