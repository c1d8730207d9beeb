// ReLU Lab's trainer in a Web Worker: a second instance of the same WebAssembly module, which
// trains on a core of its own while the page draws. It shares no memory with the page (no
// SharedArrayBuffer, so no special server headers): the page's messages come in, the
// trainer's events and newest view go out, as bytes whose buffers are transferred.
//
// A turn: read the page's messages, train for a budget, post what is ready, then yield to the
// event loop (through a MessageChannel, which does not wait the 4 ms a nested setTimeout does)
// so that the next messages are read; a paced trainer waits with setTimeout, a paused one until
// a message arrives.
import init, { TrainerWorker } from "./relu_lab_web.js";

// Long enough that yielding costs little, short enough that a command is read within it.
const BUDGET_MILLIS = 20;

const inbox = [];
let host = null;
let timer = null;
let isTurnPosted = false;
const soon = new MessageChannel();
soon.port1.onmessage = () => {
    isTurnPosted = false;
    turn();
};

function schedule(waitMillis) {
    if (timer !== null) {
        clearTimeout(timer);
        timer = null;
    }
    if (waitMillis === 0) {
        if (!isTurnPosted) {
            isTurnPosted = true;
            soon.port2.postMessage(null);
        }
    } else if (waitMillis > 0) {
        timer = setTimeout(() => {
            timer = null;
            turn();
        }, waitMillis);
    }
}

function turn() {
    for (const message of inbox.splice(0)) host.receive(message);
    const wait = host.run(BUDGET_MILLIS);
    for (let out = host.take_outgoing(); out !== undefined; out = host.take_outgoing()) {
        self.postMessage(out.buffer, [out.buffer]);
    }
    schedule(wait);
}

self.onmessage = (event) => {
    inbox.push(new Uint8Array(event.data));
    if (host !== null) schedule(0);
};

await init();
host = new TrainerWorker();
schedule(0);
