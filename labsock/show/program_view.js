// The page's side of a student's background program (labsock/show/program_view.py).
//
// Like a terminal: the newest line shows at the bottom as lines arrive; scrolled up, the box stays
// where the student put it until they scroll back to the bottom. The kernel sends the output as
// pieces ("output" messages, each saying where it starts and ends), so a redraw never replaces
// what the box shows, and the box keeps at most max_lines lines and max_chars characters.
// A typed line travels in the Enter key's own message, so what was in the box is what the program
// gets, however busy the kernel is. When the kernel goes (restarted, shut down), the view says so
// at once and greys its controls.

// One terminal per model, shared by its views (a cell shown twice), filled from the moment the
// model exists: pieces that come before a view is drawn are not lost.
const terminals = (globalThis.__labsockTerminals ??= new Map());

class Terminal {
  constructor(model) {
    this.model = model;
    this.maxLines = model.get("max_lines");
    this.maxChars = model.get("max_chars");
    this.chunks = []; // pieces of text in order: {text, lines}
    this.lines = 0; // newlines in the chunks
    this.chars = 0;
    this.cursor = null; // the kernel's count of characters up to the end of the chunks
    this.linesPrinted = 0; // the kernel's count of newlines up to the end of the chunks
    this.asked = false; // a fresh tail was asked for and has not come yet
    this.gone = false; // the kernel went: nothing more can come
    this.listeners = new Set();
    this.start(model.get("tail"), model.get("tail_end"), model.get("tail_lines"));
  }

  get hiddenLines() {
    return Math.max(this.linesPrinted - this.lines, 0);
  }

  start(text, end, linesPrinted) {
    this.chunks = [];
    this.lines = this.chars = 0;
    this.cursor = end;
    this.linesPrinted = linesPrinted;
    this.push(text);
    this.trim();
    this.tell({ reset: true });
  }

  push(text) {
    if (!text) return;
    const lines = countNewlines(text);
    this.chunks.push({ text, lines });
    this.lines += lines;
    this.chars += text.length;
  }

  // A piece from the kernel: appended if it follows on, else a fresh tail is asked for.
  receive(message) {
    if (message.kind === "tail") {
      this.asked = false;
      this.start(message.text, message.end, message.lines);
      return;
    }
    if (message.start !== this.cursor) {
      if (message.end > this.cursor) this.askForTail();
      return;
    }
    this.cursor = message.end;
    this.linesPrinted = message.lines;
    this.push(message.text);
    const removed = this.trim();
    this.tell({ added: message.text, removed });
  }

  askForTail() {
    if (this.asked || this.gone) return;
    this.asked = true;
    this.model.send({ kind: "tail" });
  }

  // Drop the oldest text beyond the bounds; returns {whole: chunks removed, first: its new text
  // or null when the first chunk left was not cut}.
  trim() {
    let whole = 0;
    let first = null;
    while (this.lines > this.maxLines || this.chars > this.maxChars) {
      const oldest = this.chunks[0];
      const extraLines = this.lines - this.maxLines;
      const extraChars = this.chars - this.maxChars;
      if (this.chunks.length > 1 && (oldest.lines <= extraLines || oldest.text.length <= extraChars)) {
        this.chunks.shift();
        this.lines -= oldest.lines;
        this.chars -= oldest.text.length;
        whole += 1;
        first = null;
        continue;
      }
      let cut = 0;
      for (let n = 0; n < extraLines; n += 1) cut = oldest.text.indexOf("\n", cut) + 1;
      if (extraChars > cut) {
        // at the start of a line if there is one after the characters that must go
        const next = oldest.text.indexOf("\n", extraChars - 1);
        cut = next === -1 ? extraChars : next + 1;
      }
      const text = oldest.text.slice(cut);
      const lines = countNewlines(text);
      this.lines -= oldest.lines - lines;
      this.chars -= oldest.text.length - text.length;
      if (text) {
        this.chunks[0] = { text, lines };
        first = text;
      } else {
        this.chunks.shift();
        whole += 1;
        first = null;
      }
    }
    return { whole, first };
  }

  tell(change) {
    for (const listener of this.listeners) listener(change);
  }
}

function countNewlines(text) {
  let count = 0;
  for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) count += 1;
  return count;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function initialize({ model }) {
  const terminal = new Terminal(model);
  terminals.set(model.get("key"), terminal);
  model.on("msg:custom", (message) => {
    if (message.kind === "output" || message.kind === "tail") terminal.receive(message);
  });
  // The tail the model was made with may be old (a page reloaded after the program printed
  // more, or ended): the kernel sends the current one as soon as it is free.
  terminal.askForTail();
  return () => terminals.delete(model.get("key"));
}

const QUIET_AFTER = 3000; // ms without a heartbeat before the view says the kernel may be gone

function render({ model, el }) {
  const terminal = terminals.get(model.get("key")) ?? new Terminal(model);
  const root = element("div", "labsock-program");
  const head = element("div", "labsock-head");
  const stop = element("button", "jupyter-button labsock-stop", "Stop");
  const state = element("span", "labsock-state");
  head.append(stop, state);
  const notes = element("div", "labsock-notes");
  const hidden = element("div", "labsock-hidden");
  const box = element("pre", "labsock-output");
  const row = element("div", "labsock-typing");
  const typed = element("input", "labsock-typed");
  typed.type = "text";
  typed.spellcheck = false;
  const send = element("button", "jupyter-button labsock-send", "Send line");
  const pending = element("div", "labsock-pending");
  row.append(typed, send);
  root.append(head, notes, hidden, box, row, pending);
  el.append(root);

  // -- the output, as a terminal shows it ----------------------------------------------------
  // Following the newest line until the student scrolls up, again once they scroll back down.
  // Kept as a flag, not read from the geometry at each piece: the view is drawn before it is
  // in the page, where nothing can scroll yet.
  let following = true;
  const atBottom = () => box.scrollHeight - box.scrollTop - box.clientHeight <= 2;
  const toBottom = () => {
    if (following) box.scrollTop = box.scrollHeight;
  };
  box.addEventListener("scroll", () => {
    if (box.clientHeight) following = atBottom();
  });
  // shown at last (put in the page, or its cell scrolled into view): the newest line in sight
  const resized = new ResizeObserver(toBottom);
  resized.observe(box);

  function showHidden() {
    const count = terminal.hiddenLines;
    hidden.textContent = count
      ? `(${count.toLocaleString("en")} earlier lines are not shown here: ` +
        `labsock.job('${model.get("name")}').output has the newest ${model.get("kept")})`
      : "";
    hidden.style.display = count ? "" : "none";
  }

  function redrawAll() {
    box.replaceChildren(...terminal.chunks.map((chunk) => document.createTextNode(chunk.text)));
    toBottom();
    showHidden();
  }

  function onChange(change) {
    if (change.reset) return redrawAll();
    const { whole, first } = change.removed;
    if (whole || first !== null) {
      const before = box.scrollHeight;
      for (let n = 0; n < whole && box.firstChild; n += 1) box.firstChild.remove();
      if (first !== null && box.firstChild) box.firstChild.data = first;
      // what went from the top must not move what the student scrolled to
      if (!following) box.scrollTop -= before - box.scrollHeight;
    }
    box.append(document.createTextNode(change.added));
    toBottom();
    showHidden();
  }
  terminal.listeners.add(onChange);

  // -- state, notes, controls ----------------------------------------------------------------
  let quietTimer = null;
  let quiet = false;
  const kernelGone = () => terminal.gone;

  function redrawState() {
    const running = model.get("running") && !kernelGone();
    root.classList.toggle("labsock-ended", !running);
    if (kernelGone()) {
      state.textContent =
        `${model.get("name")}: stopped: the kernel was restarted (or shut down), and the ` +
        "program ended with it. Run this cell again to start it again.";
    } else if (running && quiet) {
      state.textContent =
        `${model.get("state_line")} (no news from the kernel for a few seconds: was it ` +
        "restarted or shut down? Then this program has stopped with it; run this cell again.)";
    } else {
      state.textContent = model.get("state_line");
    }
    state.classList.toggle("labsock-warning", kernelGone() || quiet);
    stop.disabled = !running || stop.dataset.pressed === "yes";
    stop.classList.toggle("mod-danger", !stop.disabled);
    const waiting = running && model.get("waiting");
    row.style.display = waiting ? "" : "none";
    typed.placeholder = `${model.get("prompt") || "the program waits for a line"} (Enter sends it)`;
    send.disabled = !waiting;
    notes.replaceChildren(...model.get("notes").map((note) => element("p", "", note)));
  }

  function heard() {
    quiet = false;
    clearTimeout(quietTimer);
    if (model.get("running")) {
      quietTimer = setTimeout(() => {
        quiet = true;
        redrawState();
      }, QUIET_AFTER);
    }
    redrawState();
  }

  function goneNow() {
    terminal.gone = true;
    clearTimeout(quietTimer);
    pending.textContent = "";
    redrawState();
  }

  // -- typing: the line goes in the Enter key's own message ----------------------------------
  let lineNumber = 0;
  const viewId = Math.random().toString(36).slice(2);
  const waitingLines = new Map();

  function showPending() {
    const lines = [...waitingLines.values()];
    pending.textContent = lines.length
      ? `sent, waiting for the kernel to pass it on (it is busy): ${lines.join(" | ")}`
      : "";
  }

  function sendLine() {
    if (kernelGone()) return;
    const id = `${viewId}-${(lineNumber += 1)}`;
    waitingLines.set(id, typed.value);
    model.send({ kind: "line", id, text: typed.value });
    typed.value = "";
    setTimeout(showPending, 300); // said only if the kernel takes its time
  }

  typed.addEventListener("keydown", (event) => {
    event.stopPropagation(); // keys typed here are the program's, not the notebook's shortcuts
    if (event.key === "Enter" && !event.isComposing) {
      event.preventDefault();
      sendLine();
    }
  });
  send.addEventListener("click", sendLine);
  stop.addEventListener("click", () => {
    stop.dataset.pressed = "yes";
    redrawState();
    model.send({ kind: "stop" });
  });

  const onMessage = (message) => {
    if (message.kind === "delivered") {
      waitingLines.delete(message.id);
      showPending();
      if (message.refused) pending.textContent = message.refused;
    }
  };
  model.on("msg:custom", onMessage);
  const onState = () => {
    if (!model.get("running")) delete stop.dataset.pressed;
    redrawState();
  };
  model.on("change:state_line", onState);
  model.on("change:running", heard);
  model.on("change:waiting", onState);
  model.on("change:prompt", onState);
  model.on("change:notes", onState);
  model.on("change:beat", heard);
  // ipywidgets marks the model disconnected when its kernel restarts
  model.on("comm_live_update", goneNow);
  const kernel = model.widget_manager && model.widget_manager.kernel;
  const onKernelStatus = (_kernel, status) => {
    if (status === "dead" || status === "restarting" || status === "autorestarting") goneNow();
  };
  if (kernel && kernel.statusChanged) kernel.statusChanged.connect(onKernelStatus);

  redrawAll();
  heard();
  return () => {
    clearTimeout(quietTimer);
    resized.disconnect();
    terminal.listeners.delete(onChange);
    if (kernel && kernel.statusChanged) kernel.statusChanged.disconnect(onKernelStatus);
  };
}

export default { initialize, render };
