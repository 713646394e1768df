'use strict';

// A reconnecting WebSocket client (the `ws` package) for closewatch's reconnect tests.
//
//   node ws-reconnect.js <url> <sessions> <firstDelayMs> <factor>
//
// Opens <sessions> sessions one after another. Each one, once open, prints `OPEN <i>` and is
// dropped with ws.terminate() (TCP destroyed, no Close frame: a 1006 for closewatch); after its
// 'close' the client waits firstDelayMs * factor^i ms (printed as `WAIT <i> <ms>`) and opens the
// next. factor 1 with firstDelayMs 0 reconnects at once; factor 2 is exponential back-off.
// Prints `DONE` after the last session closed and exits 0; `ERROR <message>` on errors.

const WebSocket = require('ws');

function out(line) {
  process.stdout.write(line + '\n');
}

const [url, sessionsArg, firstArg, factorArg] = process.argv.slice(2);
const sessions = Number(sessionsArg);
const first = Number(firstArg);
const factor = Number(factorArg);
if (!url || !(sessions > 0) || !(first >= 0) || !(factor >= 1)) {
  out('ERROR usage: node ws-reconnect.js <url> <sessions> <firstDelayMs> <factor>');
  process.exit(2);
}

function connect(i) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on('error', (err) => out('ERROR ' + err.message));
  ws.on('open', () => {
    out('OPEN ' + i);
    ws.terminate();
  });
  ws.on('close', () => {
    if (i + 1 >= sessions) {
      out('DONE');
      process.exit(0);
    }
    const wait = Math.round(first * Math.pow(factor, i));
    out('WAIT ' + i + ' ' + wait);
    setTimeout(() => connect(i + 1), wait);
  });
}

connect(0);
