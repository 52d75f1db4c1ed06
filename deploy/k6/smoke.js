// Smoke test: one user for a minute; every check must pass.
//   k6 run -e AURORA_URL=https://aurora.example.com -e AURORA_TOKEN=aur_… deploy/k6/smoke.js
import { iteration, thresholds } from './lib.js';

export const options = {
  vus: 1,
  duration: '1m',
  thresholds: Object.assign({}, thresholds, { checks: ['rate==1.0'] }),
};

export default function () {
  iteration();
}
