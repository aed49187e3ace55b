import { main } from './main.js';

// Entry of the bundle and the single executable: CommonJS there, so no top-level await.
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
