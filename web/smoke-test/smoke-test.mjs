// The browser build's smoke test: serves dist/ on 127.0.0.1, opens it in headless Chromium
// (software WebGL through SwiftShader) and uses the app as a person would, by clicking on its
// canvas: it must start without a console error or a panic, train, draw, download a screenshot,
// a run record and a GIF, load the record back (replaying it to the same bits), select a tile,
// switch lessons, move a slider, open a shared link on its lesson and rate, fork that run (B)
// and open the seeds view (S). The trainer must run in a Web Worker (the page says where it
// runs). Records cross between browser and desktop: the record the page
// downloads replays natively (`relu-lab replay`) to the same bits, and a record made natively
// (`relu-lab run --record`) loads in the page and replays to the same bits. Lesson 2's seeds
// view, trained to step 3000, reads the number of collapsed networks that
// assets/lessons.toml states (and `relu-lab lessons` checks). It also
// measures the time to the first frame and the training speed at full speed, and beside it
// the native CLI's bare rate on the same preset (`relu-lab run`) and the ratio; and saves a
// screenshot (and, beside it, the Files window, the PNG and the GIF it downloaded).
//
// Usage: node smoke-test.mjs DIST_DIR SCREENSHOT.png [--chromium PATH] [--measure-seconds N]
//        [--relu-lab PATH]   (the native binary, for the record round trip; skipped without it)
// Exit code 0 when every check passed; the last line of output is a JSON summary.

import { chromium } from "playwright-core";
import { createServer } from "node:http";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize } from "node:path";

const args = process.argv.slice(2);
const option = (name, fallback) => {
    const at = args.indexOf(name);
    return at >= 0 ? args.splice(at, 2)[1] : fallback;
};
const chromiumPath = option("--chromium", "/usr/bin/chromium");
const measureSeconds = Number(option("--measure-seconds", "10"));
const reluLab = option("--relu-lab", null);
const [distDir, screenshotPath] = args;
if (!distDir || !screenshotPath) {
    console.error("usage: node smoke-test.mjs DIST_DIR SCREENSHOT.png [--chromium PATH] [--measure-seconds N]");
    process.exit(2);
}

// The layout is egui's, so it is the same for the same window size: the places clicked below
// are those of a 1280×720 page at one pixel per point.
const VIEWPORT = { width: 1280, height: 720 };
const AT = {
    filesButton: [1240, 14],
    // The Files window as it opens on lesson 1 (the test saves a picture of it, *-files.png).
    files: {
        copyLink: [475, 180],
        screenshotWindow: [512, 293],
        saveRunRecord: [656, 590],
        loadRunRecord: [494, 652],
        recordGif: [479, 409],
    },
    // In the top bar while recording.
    stopRecording: [1175, 14],
    lesson3: [1080, 448],
    learningRateSlider: [132, 96],
    // The second tile of layer 1.
    tile: [427, 145],
};

const summary = { checks: [], measurements: {} };
let failures = 0;

function check(name, passed, detail = "") {
    summary.checks.push({ name, passed, detail });
    console.log(`${passed ? "ok  " : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
    if (!passed) failures += 1;
}

// ---------------------------------------------------------------------------------------------
// A static server for dist/ (ES modules and WebAssembly need http, and the right media types).

const MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".wasm": "application/wasm",
};

function serve(root) {
    const server = createServer(async (request, response) => {
        const path = new URL(request.url, "http://localhost").pathname;
        const file = normalize(join(root, path === "/" ? "index.html" : path));
        if (!file.startsWith(normalize(root))) {
            response.writeHead(403).end();
            return;
        }
        try {
            const body = await readFile(file);
            response.writeHead(200, { "content-type": MEDIA_TYPES[extname(file)] ?? "application/octet-stream" });
            response.end(body);
        } catch {
            response.writeHead(404).end("not found");
        }
    });
    return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

// ---------------------------------------------------------------------------------------------
// The page.

async function status(page) {
    const text = await page.evaluate(() => (window.reluLab ? window.reluLab.status() : null));
    return text ? JSON.parse(text) : null;
}

async function waitFor(page, what, condition, timeoutMillis = 60_000) {
    const deadline = Date.now() + timeoutMillis;
    for (;;) {
        const current = await status(page);
        if (current && condition(current)) return current;
        if (Date.now() > deadline) {
            throw new Error(`timed out waiting until ${what}; status ${JSON.stringify(current)}`);
        }
        await page.waitForTimeout(100);
    }
}

async function hasPanicked(page) {
    return page.evaluate(() => (window.reluLab ? window.reluLab.has_panicked() : false));
}

// How many distinct colours a PNG has, counted in the page (which can decode PNGs).
async function distinctColours(page, png) {
    return page.evaluate(async (base64) => {
        const image = new Image();
        image.src = `data:image/png;base64,${base64}`;
        await image.decode();
        const canvas = new OffscreenCanvas(image.width, image.height);
        const context = canvas.getContext("2d");
        context.drawImage(image, 0, 0);
        const pixels = context.getImageData(0, 0, image.width, image.height).data;
        const colours = new Set();
        for (let at = 0; at < pixels.length; at += 4) {
            colours.add((pixels[at] << 16) | (pixels[at + 1] << 8) | pixels[at + 2]);
        }
        return { width: image.width, height: image.height, colours: colours.size };
    }, png.toString("base64"));
}

// Clicks as a hand does: move there, press, release, with time between for the app's frames
// (egui sees where the pointer is before it sees the press).
async function click(page, [x, y]) {
    await page.mouse.move(x, y);
    await page.waitForTimeout(100);
    await page.mouse.down();
    await page.waitForTimeout(100);
    await page.mouse.up();
    await page.waitForTimeout(300);
}

// The Files window moves up as the message at its foot grows (egui keeps it on screen): a place
// in it is where AT.files has it when the window first opened (no message yet), moved as far as
// the window moved since (the page reports where the window is).
let filesTop = null;
async function inFiles(page, [x, y]) {
    const top = (await status(page))?.files_window?.[1];
    if (top === undefined || top === null) return [x, y];
    if (filesTop === null) filesTop = top;
    return [x, Math.round(y + top - filesTop)];
}

// A run record's first lane (its run), or the record itself in the one-lane format.
function firstLane(record) {
    return record.lanes?.[0] ?? record;
}

// Clicks `at` and returns the download it starts.
async function download(page, at, what) {
    const started = page.waitForEvent("download", { timeout: 30_000 });
    await click(page, at);
    const file = await started.catch(async (error) => {
        await page.screenshot({ path: screenshotPath.replace(/\.png$/, "-failure.png") });
        throw new Error(`${what}: ${error.message}; status ${JSON.stringify(await status(page))}`);
    });
    const path = await file.path();
    check(`${what} is downloaded`, Boolean(path), file.suggestedFilename());
    return { name: file.suggestedFilename(), bytes: await readFile(path) };
}

// Runs the native relu-lab with `args`; resolves to its exit code and output.
function native(args) {
    return new Promise((resolve) => {
        execFile(reluLab, args, { maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
            resolve({ code: error ? (error.code ?? 1) : 0, output: `${stdout}${stderr}` });
        });
    });
}

// The figure lesson 2's text states: on how many of 10 seeds a whole layer is dead after its
// preset's 3000 steps ({collapsed@preset} in assets/lessons.toml, filled from the measurement in
// assets/lessons-measured.json, which `relu-lab lessons --measure` makes).
async function lesson2Collapsed() {
    const toml = await readFile(new URL("../../assets/lessons.toml", import.meta.url), "utf8");
    const preset = (toml.split("[[lesson]]")[2] ?? "").match(/^preset = "([^"]+)"/m)?.[1];
    const measured = JSON.parse(
        await readFile(new URL("../../assets/lessons-measured.json", import.meta.url), "utf8"),
    );
    return measured.lessons?.[preset]?.preset?.collapsed?.count ?? null;
}

// The preset of lesson 1 (the default lesson), from assets/lessons.toml.
async function lesson1Preset() {
    const toml = await readFile(new URL("../../assets/lessons.toml", import.meta.url), "utf8");
    const lesson1 = toml.split("[[lesson]]")[1] ?? "";
    return lesson1.match(/^preset = "([^"]+)"/m)?.[1] ?? "healthy-relu";
}

// The native CLI's bare steps per second on `preset` (`relu-lab run`, its plain step loop): the
// difference between a long and a short run, so that starting and evaluating cancel out.
async function bareRate(preset) {
    const timed = async (steps) => {
        const started = performance.now();
        const done = await native(["run", "--preset", preset, "--steps", String(steps), "--every", String(steps)]);
        return done.code === 0 ? (performance.now() - started) / 1000 : null;
    };
    const [short, long] = [200_000, 1_200_000];
    const shortSeconds = await timed(short);
    const longSeconds = await timed(long);
    if (shortSeconds === null || longSeconds === null || longSeconds <= shortSeconds) return null;
    return (long - short) / (longSeconds - shortSeconds);
}

// Frames per second over `seconds`, counted with requestAnimationFrame.
async function frameRate(page, seconds) {
    return page.evaluate(
        (millis) =>
            new Promise((resolve) => {
                let frames = 0;
                const start = performance.now();
                const count = () => {
                    frames += 1;
                    if (performance.now() - start < millis) requestAnimationFrame(count);
                    else resolve((frames * 1000) / (performance.now() - start));
                };
                requestAnimationFrame(count);
            }),
        seconds * 1000,
    );
}

async function run() {
    await mkdir(dirname(screenshotPath), { recursive: true });
    const server = await serve(distDir);
    const origin = `http://127.0.0.1:${server.address().port}`;
    const downloads = await mkdtemp(join(tmpdir(), "relu-lab-smoke-"));
    // A fresh profile each time (Playwright makes one); the flags keep Chromium off the network
    // (it would hang on a closed one) and give it WebGL without a GPU.
    const browser = await chromium.launch({
        executablePath: chromiumPath,
        headless: true,
        downloadsPath: downloads,
        args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--use-angle=swiftshader",
            "--enable-unsafe-swiftshader",
        ],
    });
    try {
        await firstVisit(browser, origin);
        await sharedLink(browser, origin);
        await lesson2Seeds(browser, origin);
        await phone(browser, origin);
    } finally {
        await browser.close();
        server.close();
        await rm(downloads, { recursive: true, force: true });
    }
}

// The app on its own: it starts, trains, draws; lessons, a slider, downloads and a load.
async function firstVisit(browser, origin) {
    const context = await browser.newContext({
        viewport: VIEWPORT,
        deviceScaleFactor: 1,
        acceptDownloads: true,
        permissions: ["clipboard-read", "clipboard-write"],
    });
    const page = await context.newPage();
    const consoleErrors = [];
    const consoleLog = [];
    page.on("console", (message) => {
        consoleLog.push(`${message.type()}: ${message.text()}`);
        if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => consoleErrors.push(String(error)));

    const navigationStart = Date.now();
    await page.goto(`${origin}/`);
    const started = await waitFor(page, "the first frame is drawn", (s) => s.step !== null);
    const firstFrameMillis = await page.evaluate(() => window.reluLab.first_frame_millis());
    summary.measurements.first_frame_millis = Math.round(firstFrameMillis);
    summary.measurements.first_frame_wall_millis = Date.now() - navigationStart;
    check("the app draws its first frame", firstFrameMillis !== null, `${Math.round(firstFrameMillis)} ms after navigation`);
    check("it opens on lesson 1", started.lesson === 1, `lesson ${started.lesson}`);

    const before = await status(page);
    await page.waitForTimeout(2000);
    const after = await status(page);
    check("the step counter grows", after.step > before.step, `${before.step} → ${after.step} in 2 s`);

    const shot = await page.locator("canvas").screenshot();
    await writeFile(screenshotPath, shot);
    const picture = await distinctColours(page, shot);
    check(
        "the screenshot of the canvas is not blank",
        picture.colours > 50,
        `${picture.width}×${picture.height}, ${picture.colours} colours, saved as ${screenshotPath}`,
    );

    // Where the trainer runs: in a Web Worker, or in the page's frames where none could start.
    check(
        "the trainer runs in a Web Worker",
        started.trainer === "Worker",
        `the page says its trainer runs ${started.trainer_place} (${started.trainer})`,
    );
    summary.measurements.trainer_backend = started.trainer;

    // Full speed: steps per second of the default lesson. Its script pauses at its last beat;
    // Space goes on past it, and the rate is measured after that.
    await page.evaluate(() => window.reluLab.set_full_speed(true));
    const paused = await waitFor(page, "the lesson's script pauses", (s) => !s.is_running, 30_000).catch(() => null);
    if (paused) {
        await page.mouse.move(640, 700);
        await page.keyboard.press("Space");
        await waitFor(page, "it trains on", (s) => s.is_running, 10_000);
    }
    await page.waitForTimeout(1000);
    const fast0 = await status(page);
    const time0 = Date.now();
    const framesPerSecond = await frameRate(page, measureSeconds);
    const fast1 = await status(page);
    const stepsPerSecond = ((fast1.step - fast0.step) * 1000) / (Date.now() - time0);
    summary.measurements.full_speed_steps_per_second = Math.round(stepsPerSecond);
    summary.measurements.full_speed_frames_per_second = Math.round(framesPerSecond * 10) / 10;
    check(
        "at full speed it trains faster than the default 200 steps/s",
        stepsPerSecond > 200,
        `${Math.round(stepsPerSecond)} steps/s at ${framesPerSecond.toFixed(1)} frames/s over ${measureSeconds} s ` +
            `(steps ${fast0.step} → ${fast1.step}, trainer: ${fast1.trainer})`,
    );
    await page.evaluate(() => window.reluLab.set_full_speed(false));

    // The desktop CLI's bare rate for the same preset, in the same run, and the ratio.
    if (reluLab) {
        const preset = await lesson1Preset();
        const bare = await bareRate(preset);
        if (bare === null) {
            check(`relu-lab run --preset ${preset} measures the bare rate`, false);
        } else {
            const ratio = stepsPerSecond / bare;
            summary.measurements.cli_bare_steps_per_second = Math.round(bare);
            summary.measurements.browser_to_cli_bare_ratio = Math.round(ratio * 1000) / 1000;
            console.log(
                `     browser at full speed: ${Math.round(stepsPerSecond)} steps/s; desktop CLI bare ` +
                    `(relu-lab run --preset ${preset}): ${Math.round(bare)} steps/s; ratio ${ratio.toFixed(3)} ` +
                    `(target at least 0.25: ${ratio >= 0.25 ? "met" : "not met"})`,
            );
        }
    }
    await page.evaluate(() => window.reluLab.set_full_speed(false));

    // A tile, clicked: its neuron is selected for the detail plots.
    await click(page, AT.tile);
    const selected = await waitFor(page, "a neuron is selected", (s) => s.selected_neuron !== null, 10_000).catch(
        (error) => ({ selected_neuron: error.message }),
    );
    check(
        "clicking a tile selects its neuron",
        JSON.stringify(selected.selected_neuron) === "[1,2]",
        `layer and neuron ${JSON.stringify(selected.selected_neuron)}`,
    );

    // Files: a screenshot (PNG), the run record and a GIF download; the record loads back.
    await click(page, AT.filesButton);
    await page.screenshot({ path: screenshotPath.replace(/\.png$/, "-files.png") });
    await click(page, await inFiles(page, AT.files.copyLink));
    const copied = await waitFor(page, "the link is copied", (s) => (s.files_message ?? "").includes("link"), 10_000);
    const address = await page.evaluate(() => window.location.href);
    const clipboard = await page.evaluate(() => navigator.clipboard.readText()).catch((error) => String(error));
    check(
        "Copy link copies the address of this run and shows it in the address bar",
        address === `${origin}/#lesson=1` && clipboard === address && copied.files_message.startsWith("Copied the link"),
        `address ${address}, clipboard ${clipboard}`,
    );
    const png = await download(page, await inFiles(page, AT.files.screenshotWindow), "a PNG screenshot");
    await writeFile(screenshotPath.replace(/\.png$/, "-download.png"), png.bytes);
    const pngPicture = await distinctColours(page, png.bytes);
    check(
        "the PNG is the window with its caption strip below",
        png.bytes.subarray(1, 4).toString() === "PNG" && pngPicture.width === 1280 && pngPicture.height > 720,
        `${png.name}: ${pngPicture.width}×${pngPicture.height}, ${png.bytes.length} bytes`,
    );
    const record = await download(page, await inFiles(page, AT.files.saveRunRecord), "the run record");
    // A record holds its run as its first lane (a comparison's or the seeds view's have more).
    const recordJson = firstLane(JSON.parse(record.bytes.toString()));
    check(
        "the record is a run record with a digest of its weights",
        recordJson.steps > 0 && String(recordJson.parameter_digest).startsWith("fnv1a64:"),
        `${record.name}: ${recordJson.steps} steps, ${recordJson.commands.length} commands`,
    );
    // A GIF, recorded in memory a frame at a time, downloads when it is stopped.
    await click(page, await inFiles(page, AT.files.recordGif));
    await page.waitForTimeout(3000);
    const gif = await download(page, AT.stopRecording, "a GIF recording");
    await writeFile(screenshotPath.replace(/\.png$/, "-download.gif"), gif.bytes);
    check(
        "the GIF is a GIF with frames",
        gif.bytes.subarray(0, 6).toString() === "GIF89a" && gif.bytes.length > 10_000,
        `${gif.name}: ${gif.bytes.length} bytes`,
    );

    await click(page, AT.filesButton);
    const recordPath = join(await mkdtemp(join(tmpdir(), "relu-lab-record-")), record.name);
    await writeFile(recordPath, record.bytes);
    const chooser = page.waitForEvent("filechooser", { timeout: 10_000 });
    await click(page, await inFiles(page, AT.files.loadRunRecord));
    try {
        await (await chooser).setFiles(recordPath);
    } catch (error) {
        await page.screenshot({ path: screenshotPath.replace(/\.png$/, "-failure.png") });
        console.log(JSON.stringify(await status(page)));
        console.log(consoleLog.filter((line) => !line.includes("GL Driver")).slice(-10).join("\n"));
        throw error;
    }
    const replayed = await waitFor(
        page,
        "the record is replayed",
        (s) => (s.notice ?? "").startsWith(`Replayed the record to step ${recordJson.steps}`),
        60_000,
    ).catch((error) => ({ notice: error.message }));
    check(
        "the record loads back and replays to the same bits",
        (replayed.notice ?? "").includes("match the record bit for bit"),
        replayed.notice,
    );

    // Browser → desktop: the record the page made replays natively to the same bits.
    if (reluLab) {
        const desktop = await native(["replay", recordPath]);
        check(
            "the browser's record replays on the desktop bit for bit",
            desktop.code === 0 && desktop.output.includes("final weights match the record bit for bit"),
            desktop.output.trim().split("\n").slice(-1)[0],
        );
        // Desktop → browser: a record made natively loads in the page and replays to its bits.
        const desktopRecord = join(dirname(recordPath), "desktop-record.json");
        const made = await native(["run", "--preset", "high-learning-rate", "--steps", "1500", "--record", desktopRecord]);
        const desktopJson = made.code === 0 ? firstLane(JSON.parse(await readFile(desktopRecord, "utf8"))) : { steps: null };
        check("the desktop makes a record", made.code === 0, `${desktopJson.steps} steps, ${desktopJson.parameter_digest}`);
        // The Files window is still open from the load above.
        const desktopChooser = page.waitForEvent("filechooser", { timeout: 10_000 });
        await click(page, await inFiles(page, AT.files.loadRunRecord));
        await (await desktopChooser).setFiles(desktopRecord);
        const desktopReplayed = await waitFor(
            page,
            "the desktop record is replayed",
            (s) => (s.notice ?? "").startsWith(`Replayed the record to step ${desktopJson.steps}`),
            120_000,
        ).catch((error) => ({ notice: error.message }));
        check(
            "the desktop's record replays in the browser bit for bit",
            (desktopReplayed.notice ?? "").includes("match the record bit for bit"),
            desktopReplayed.notice,
        );
    } else {
        check("the record round trip between browser and desktop is skipped: no --relu-lab binary", true);
    }

    await click(page, AT.filesButton);

    // A lesson, clicked in the lessons panel.
    // Its run is the trainer's answer (from the worker, a message later): it starts again from
    // step 0, where the run before was further on.
    const stepBefore = (await status(page)).step;
    await click(page, AT.lesson3);
    const lesson3 = await waitFor(page, "lesson 3 opens", (s) => s.lesson === 3 && s.step < stepBefore, 10_000).catch(
        (error) => error,
    );
    check("clicking lesson 3 opens it", !(lesson3 instanceof Error), lesson3.message ?? "lesson 3");

    // The learning-rate slider, dragged to the right: the rate goes up (it stops at round rates).
    const rateBefore = (await status(page)).learning_rate;
    const [x, y] = AT.learningRateSlider;
    await page.mouse.move(x, y);
    await page.mouse.down();
    for (let step = 1; step <= 10; step += 1) {
        await page.mouse.move(x + step * 6, y);
        await page.waitForTimeout(30);
    }
    await page.mouse.up();
    const rateAfter = await waitFor(page, "the rate changes", (s) => s.learning_rate !== rateBefore, 10_000)
        .then((s) => s.learning_rate)
        .catch(() => rateBefore);
    check("dragging the learning-rate slider changes the rate", rateAfter > rateBefore, `${rateBefore} → ${rateAfter}`);

    check("no console error", consoleErrors.length === 0, consoleErrors.join(" | "));
    check("the app did not panic", !(await hasPanicked(page)));
    await context.close();
}

// A shared link opens its lesson at its rate.
async function sharedLink(browser, origin) {
    const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const consoleErrors = [];
    page.on("console", (message) => {
        if (message.type() === "error") consoleErrors.push(message.text());
    });
    await page.goto(`${origin}/#lesson=2&lr=3`);
    const opened = await waitFor(page, "the link's run trains", (s) => s.step > 0);
    check(
        "a link with #lesson=2&lr=3 opens lesson 2 at rate 3",
        opened.lesson === 2 && opened.learning_rate === 3 && opened.notice === null,
        `lesson ${opened.lesson}, rate ${opened.learning_rate}`,
    );

    // The comparison and the seeds view run in the page too (in a tab, on one thread).
    await page.mouse.move(640, 700);
    await page.keyboard.press("b");
    const forked = await waitFor(page, "the run forks into A and B", (s) => s.branch_b_step !== null, 10_000).catch(
        (error) => ({ branch_b_step: null, notice: error.message }),
    );
    const forkedLater = await waitFor(page, "B trains", (s) => s.branch_b_step > forked.branch_b_step, 10_000).catch(
        () => forked,
    );
    check(
        "B forks the run, and both branches train",
        forked.branch_b_step !== null && forkedLater.branch_b_step > forked.branch_b_step,
        `B at step ${forked.branch_b_step} → ${forkedLater.branch_b_step}`,
    );
    await page.keyboard.press("s");
    const seeded = await waitFor(page, "the seeds view opens", (s) => (s.seeds ?? []).length === 10, 20_000).catch(
        (error) => ({ seeds: null, notice: error.message }),
    );
    const seededLater = await waitFor(
        page,
        "the seeds train",
        (s) => (s.seeds ?? []).every((step, at) => step > seeded.seeds[at]),
        20_000,
    ).catch(() => seeded);
    check(
        "S opens ten seeds side by side, and every seed trains",
        seeded.seeds !== null && seededLater !== seeded,
        `steps ${JSON.stringify(seeded.seeds)} → ${JSON.stringify(seededLater.seeds)}`,
    );
    await page.screenshot({ path: screenshotPath.replace(/\.png$/, "-seeds.png") });

    check("no console error with the link", consoleErrors.length === 0, consoleErrors.join(" | "));
    check("the app did not panic with the link", !(await hasPanicked(page)));
    await context.close();
}

// Opens lesson 2 and plays it at full speed to its first pause: the step its figures are taken
// at (3000). Returns the status there.
async function lesson2AtItsBeat(page, origin) {
    await page.goto(`${origin}/#lesson=2`);
    await waitFor(page, "lesson 2 trains", (s) => s.lesson === 2 && s.step > 0);
    await page.evaluate(() => window.reluLab.set_full_speed(true));
    return waitFor(page, "lesson 2 pauses at its beat", (s) => !s.is_running && s.step >= 3000, 120_000);
}

// Lesson 2's seeds view, opened where the lesson pauses (step 3000) at full speed, trains every
// seed to that step, pauses and says how many networks collapsed: the figure the lesson states
// (the steps are reported).
async function lesson2Seeds(browser, origin) {
    const expected = await lesson2Collapsed();
    const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    const page = await context.newPage();
    // The seeds view opened at the beat trains its seeds to the beat's step and pauses too.
    const paused = await lesson2AtItsBeat(page, origin);
    await page.mouse.move(640, 700);
    await page.keyboard.press("s");
    const done = await waitFor(
        page,
        "every seed reaches the lesson's step and the view pauses",
        (s) => (s.seeds ?? []).length === 10 && s.seeds.every((step) => step >= paused.step) && !s.is_running,
        300_000,
    ).catch((error) => ({ seeds: null, seeds_summary: null, notice: error.message }));
    const summary = (done.seeds_summary ?? [])[0] ?? done.notice ?? "no summary";
    check(
        "lesson 2's seeds view reads the collapsed networks the lesson states",
        expected !== null
            && (done.seeds ?? []).every((step) => step === paused.step)
            && summary.startsWith(`${expected} of 10 networks collapsed`),
        `at steps ${JSON.stringify(done.seeds)}: "${summary}"; measured for the lesson: ${expected} of 10`,
    );
    await context.close();
}

// On a phone (390×844, touch): lesson 2 plays to its beat, forks, and both branches train; the
// screen is saved beside the others (-phone.png) to be looked at.
async function phone(browser, origin) {
    const context = await browser.newContext({
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 1,
        hasTouch: true,
        isMobile: true,
    });
    const page = await context.newPage();
    await lesson2AtItsBeat(page, origin);
    await page.mouse.move(195, 400);
    await page.keyboard.press("b");
    const forked = await waitFor(page, "the phone's run forks", (s) => s.branch_b_step !== null, 10_000).catch(
        (error) => ({ branch_b_step: null, notice: error.message }),
    );
    const shot = screenshotPath.replace(/\.png$/, "-phone.png");
    await page.screenshot({ path: shot });
    const drawn = await distinctColours(page, await readFile(shot));
    check(
        "on a phone (390×844) lesson 2 forks and is drawn",
        forked.branch_b_step !== null && drawn.width === 390 && drawn.colours > 1000 && !(await hasPanicked(page)),
        `B at step ${forked.branch_b_step}; ${drawn.width}×${drawn.height}, ${drawn.colours} colours, saved as ${shot}`,
    );
    await context.close();
}

try {
    await run();
} catch (error) {
    check("the smoke test ran to its end", false, error.stack ?? String(error));
}
console.log(JSON.stringify(summary));
process.exit(failures === 0 ? 0 : 1);
