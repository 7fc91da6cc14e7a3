// Bundles sdk-echo-bot.cjs with its dependencies into one CommonJS file, as `bp deploy` uploads a
// bot's code: node bundle-bot.mjs <output file>
import { build } from 'esbuild'

const [, , outfile] = process.argv
await build({
  entryPoints: [new URL('./sdk-echo-bot.cjs', import.meta.url).pathname],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  outfile,
  minify: true,
  logLevel: "error",
})
