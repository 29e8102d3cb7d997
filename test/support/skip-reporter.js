// Prints, after the run, every skipped test with its suite name, so a skip is never silent.
export default class SkipReporter {
  constructor() {
    this.skipped = [];
  }
  onTestResult(_test, result) {
    for (const t of result.testResults)
      if (t.status === 'pending' || t.status === 'skipped') this.skipped.push(t.fullName);
  }
  onRunComplete() {
    if (this.skipped.length === 0) return;
    process.stderr.write(`\n${this.skipped.length} test(s) skipped:\n`);
    for (const name of this.skipped.slice(0, 50)) process.stderr.write(`  - ${name}\n`);
    if (process.env.TESSERA_TEST_REQUIRE_ALL === '1') {
      process.stderr.write('TESSERA_TEST_REQUIRE_ALL=1: skipped tests fail the run.\n');
      process.exitCode = 1;
    }
  }
}
