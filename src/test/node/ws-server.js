'use strict';

// A third-party WebSocket upstream (the `ws` package) for closewatch's interop tests.
//
//   node ws-server.js
//
// Listens on 127.0.0.1, port 0, and prints `LISTENING <port>` once bound. Per connection:
//   - echoes every message with the same type (text/binary) and content;
//   - text `close <code> [reason]` -> ws.close(code, reason) (the command is not echoed);
//   - text `terminate`             -> ws.terminate(): TCP destroyed, no Close frame;
//   - on 'close' prints `CLOSED <code> <reason>` as received in the 'close' event.
// Exits when stdin ends (the Java test closes the process's stdin) or on SIGTERM/SIGINT.

const { WebSocketServer } = require('ws');

function out(line) {
  process.stdout.write(line + '\n');
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });

wss.on('listening', () => {
  out('LISTENING ' + wss.address().port);
});

wss.on('error', (err) => {
  out('ERROR ' + err.message);
  process.exit(1);
});

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    if (!isBinary) {
      const text = data.toString('utf8');
      const close = /^close (\d+)(?: (.*))?$/s.exec(text);
      if (close) {
        ws.close(Number(close[1]), close[2] === undefined ? '' : close[2]);
        return;
      }
      if (text === 'terminate') {
        ws.terminate();
        return;
      }
    }
    ws.send(data, { binary: isBinary });
  });
  ws.on('close', (code, reason) => {
    out('CLOSED ' + code + ' ' + reason.toString('utf8'));
  });
  ws.on('error', (err) => {
    out('ERROR ' + err.message);
  });
});

function shutdown() {
  // The test is done with this peer: drop whatever is still open and leave at once.
  process.exit(0);
}

process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.resume();
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
