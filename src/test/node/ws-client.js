'use strict';

// A third-party WebSocket client (the `ws` package) for closewatch's interop tests.
//
//   node ws-client.js <url> <mode> [args]
//
// Connects (perMessageDeflate off), prints `OPEN`, then by mode:
//   echo <count> <size>   sends <count> binary messages of <size> random bytes one at a time,
//                         waits for each echo and compares it with what was sent; prints
//                         `RECEIVED <count> <sha256hex of all bytes received>`, then
//                         `ECHO_OK <count> <sha256hex of all bytes sent>` and closes with 1000
//                         (or prints `ECHO_MISMATCH <index> ...` and exits 1);
//   close <code> [reason] ws.close(code, reason);
//   terminate             ws.terminate(): TCP destroyed, no Close frame;
//   send <text>           sends <text> as one text message, then waits for the server;
//   wait                  does nothing: waits for the server.
// Always prints `CLOSED <code> <reason>` on 'close' and exits 0 after it (unless an echo
// mismatch was seen); prints `ERROR <message>` on errors.

const crypto = require('crypto');
const WebSocket = require('ws');

function out(line) {
  process.stdout.write(line + '\n');
}

function usage(message) {
  out('ERROR ' + message);
  process.stderr.write('usage: node ws-client.js <url> echo <count> <size> | close <code> [reason]'
      + ' | terminate | send <text> | wait\n');
  process.exit(2);
}

const [url, mode, ...args] = process.argv.slice(2);
if (!url || !mode) {
  usage('missing url or mode');
}

let exitCode = 0;

const ws = new WebSocket(url, { perMessageDeflate: false });

ws.on('error', (err) => {
  out('ERROR ' + err.message);
});

ws.on('close', (code, reason) => {
  out('CLOSED ' + code + ' ' + reason.toString('utf8'));
  process.exit(exitCode);
});

ws.on('open', () => {
  out('OPEN');
  switch (mode) {
    case 'echo':
      echo(Number(args[0]), Number(args[1]));
      break;
    case 'close':
      ws.close(Number(args[0]), args.slice(1).join(' '));
      break;
    case 'terminate':
      ws.terminate();
      break;
    case 'send':
      ws.send(args.join(' '));
      break;
    case 'wait':
      break;
    default:
      usage('unknown mode: ' + mode);
  }
});

function echo(count, size) {
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(size) || size < 0) {
    usage('echo expects <count> >= 1 and <size> >= 0');
  }
  const sent = crypto.createHash('sha256');
  const received = crypto.createHash('sha256');
  let index = 0;
  let expected = null;

  function next() {
    if (index === count) {
      out('RECEIVED ' + count + ' ' + received.digest('hex'));
      out('ECHO_OK ' + count + ' ' + sent.digest('hex'));
      ws.close(1000);
      return;
    }
    expected = crypto.randomBytes(size);
    sent.update(expected);
    ws.send(expected, { binary: true });
  }

  ws.on('message', (data, isBinary) => {
    const buf = Buffer.isBuffer(data) ? data : Buffer.concat(data);
    received.update(buf);
    if (!isBinary || !buf.equals(expected)) {
      out('ECHO_MISMATCH ' + index + ' binary=' + isBinary + ' length=' + buf.length
          + ' expectedLength=' + expected.length);
      exitCode = 1;
      ws.terminate();
      return;
    }
    index++;
    next();
  });

  next();
}
