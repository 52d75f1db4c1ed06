// Load test: the expected peak. Stages: 2 m up to 10 users, 5 m up to 50,
// 10 m at 100, 2 m down to 0. Checks: status 200 (202 for webhooks) and
// duration < 500 ms.
//   k6 run -e AURORA_URL=https://aurora.example.com -e AURORA_TOKEN=aur_… deploy/k6/load.js
// `aurora bench load` runs the same stages scaled down, without k6.
import { iteration, thresholds } from './lib.js';

export const options = {
  stages: [
    { duration: '2m', target: 10 },
    { duration: '5m', target: 50 },
    { duration: '10m', target: 100 },
    { duration: '2m', target: 0 },
  ],
  thresholds,
};

export default function () {
  iteration();
}
