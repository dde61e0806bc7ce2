// Encodes images with the reference ThumbHash implementation (the npm `thumbhash` package),
// for tests/test_placeholders.py. Reads a JSON array of {"width", "height", "rgba"} (the RGBA
// pixels, base64) on stdin; writes a JSON array of the hashes, base64, in the same order.
import { rgbaToThumbHash } from 'thumbhash'

let input = ''
for await (const chunk of process.stdin) input += chunk
const hashes = JSON.parse(input).map(({ width, height, rgba }) => {
  const pixels = new Uint8Array(Buffer.from(rgba, 'base64'))
  return Buffer.from(rgbaToThumbHash(width, height, pixels)).toString('base64')
})
process.stdout.write(JSON.stringify(hashes))
