// Prints N free TCP ports on 127.0.0.1, space-separated:  node .ci/ops/free-ports.mjs 3
// (each is bound, noted and released; all N are held at once so they differ)
import net from 'node:net';

const n = Number(process.argv[2] ?? 1);
const servers = [];
for (let i = 0; i < n; i++) {
  const s = net.createServer();
  await new Promise((res, rej) => s.listen(0, '127.0.0.1', res).on('error', rej));
  servers.push(s);
}
console.log(servers.map((s) => s.address().port).join(' '));
await Promise.all(servers.map((s) => new Promise((res) => s.close(res))));
