// Plain JavaScript on purpose: an old Node cannot even load a .ts file to print this.
// Fails fast when an npm script runs on anything older than Node 24 (the machine's own
// Node 20 must never run the project: mediasoup 3.27 and node:sqlite need 24).
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`Tutti needs Node >= 24, this is ${process.version} (${process.execPath})`);
  process.exit(1);
}
