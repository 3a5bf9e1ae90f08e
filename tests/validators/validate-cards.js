// Parse and validate Adaptive Cards with Microsoft's own library (npm adaptivecards 3.x) under a
// Teams host config, the way a Teams client reads them before rendering.
// Input (stdin): a JSON array of cards. Output (stdout): a JSON array, one entry per card, of
// {"events": [...], "primary": [[...]], "secondary": [[...]], "html": bool}, where events lists
// every parse or validation message and the action lists give each action set's titles by mode.
"use strict";
const fs = require("fs");
const path = require("path");
const { JSDOM } = require("jsdom");

const dom = new JSDOM("<!doctype html><html><body></body></html>", {
  url: "https://teams.invalid/",
});
globalThis.window = dom.window;
globalThis.document = dom.window.document;
// The library renders with DOM classes it expects as globals, as in a browser.
for (const name of Object.getOwnPropertyNames(dom.window)) {
  if (!(name in globalThis) && name !== "localStorage" && name !== "sessionStorage") {
    globalThis[name] = dom.window[name];
  }
}
// Keep stdout for the answer: the library logs notices with console.log.
const notices = [];
console.log = (...args) => notices.push(args.map(String).join(" "));
const AC = require("adaptivecards/dist/adaptivecards.js");

const hostConfig = new AC.HostConfig(
  JSON.parse(fs.readFileSync(path.join(__dirname, "teams-host-config.json"), "utf8")),
);

function describe(event) {
  const kind = AC.ValidationEvent[event.event];
  const phase = AC.ValidationPhase[event.phase];
  return `${phase} ${kind}: ${event.message}`;
}

function actionSets(card) {
  const sets = [];
  const visit = (element) => {
    if (element instanceof AC.ActionSet || element instanceof AC.AdaptiveCard) {
      const all = [];
      for (let i = 0; i < element.getActionCount(); i++) all.push(element.getActionAt(i));
      if (all.length) {
        sets.push({
          primary: all.filter((a) => a.mode !== AC.ActionMode.Secondary).map((a) => a.title),
          secondary: all.filter((a) => a.mode === AC.ActionMode.Secondary).map((a) => a.title),
        });
      }
    }
    if (typeof element.getItemCount === "function") {
      for (let i = 0; i < element.getItemCount(); i++) visit(element.getItemAt(i));
    }
  };
  visit(card);
  return sets;
}

function check(json) {
  const card = new AC.AdaptiveCard();
  card.hostConfig = hostConfig;
  const context = new AC.SerializationContext(AC.Versions.v1_5);
  card.parse(json, context);
  const events = [];
  for (let i = 0; i < context.eventCount; i++) events.push(describe(context.getEventAt(i)));
  const results = card.validateProperties();
  for (const event of results.validationEvents) events.push(describe(event));
  const rendered = card.render();
  const sets = actionSets(card);
  return {
    events,
    primary: sets.map((s) => s.primary),
    secondary: sets.map((s) => s.secondary),
    rendered: Boolean(rendered),
  };
}

const cards = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cards.map(check)));
