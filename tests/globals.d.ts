// What the simulated pages put on `window` for the tests to read (see tests/lib/pbx.js and
// the hostile page scripts in tests/trust.test.js).
interface Window {
  __received: number;
  __stolen: number;
  __fakePort: MessagePort;
  pwned: boolean;
}

