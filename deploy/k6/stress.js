// Stress test: far past the expected peak, to find where it breaks and see
// it recover. Stages: 5 m up to 1,000 users, 10 m at 1,000.
//   k6 run -e AURORA_URL=https://aurora.example.com -e AURORA_TOKEN=aur_… deploy/k6/stress.js
import { iteration } from './lib.js';

export const options = {
  stages: [
    { duration: '5m', target: 1000 },
    { duration: '10m', target: 1000 },
  ],
  // Under stress, errors are measured, not failed on: the report shows
  // where latency and error rate break.
  thresholds: {
    http_req_duration: ['p(99)<5000'],
  },
};

export default function () {
  iteration();
}
