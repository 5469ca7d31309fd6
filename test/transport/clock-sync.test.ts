import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClockSync } from '../../src/transport/clock-sync';

test('offset and round trip from SR → clock-echo, NTP-style, best (minimum RTT) sample wins', () => {
  const cs = new ClockSync();
  assert.equal(cs.relation().method, 'not-estimated');
  // Receiver clock = sender clock + 500 ms. One-way delays 10 ms out, 30 ms back; 2 ms in the receiver.
  // t0 = 1000 (sender), t1 = 1000 + 10 + 500 = 1510, t2 = 1512 (receiver), t3 = 1512 − 500 + 30 = 1042.
  cs.srSent(0xabc, 1000);
  assert.equal(cs.echo(0xabc, 1510, 1512, 1042), 40); // rtt = (1042 − 1000) − (1512 − 1510)
  // offset = ((1510 − 1000) + (1512 − 1042)) / 2 = (510 + 470) / 2 = 490: the 20 ms asymmetry shows as 10 ms error, within rtt/2.
  assert.deepEqual(cs.relation(), { offsetMs: 490, method: 'rtcp-round-trip', uncertaintyMs: 20, samples: 1 });
  // A symmetric 5 ms sample: t0 = 2000, t1 = 2505, t2 = 2506, t3 = 2011 → rtt 10, offset (505 + 495) / 2 = 500.
  cs.srSent(0xdef, 2000);
  assert.equal(cs.echo(0xdef, 2505, 2506, 2011), 10);
  assert.equal(cs.relation().offsetMs, 500);
  assert.equal(cs.relation().uncertaintyMs, 5);
  // A slower later sample does not replace the best one; an unknown SR is ignored.
  cs.srSent(0x123, 3000);
  cs.echo(0x123, 3600, 3601, 3200);
  assert.equal(cs.echo(0x999, 1, 2, 3), null);
  assert.equal(cs.relation().offsetMs, 500);
  assert.equal(cs.relation().samples, 3);
});
