/** A run refuses a device that is not the board, or not the firmware, it asked for. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkIdentity, WrongBoardError, WrongFirmwareError } from '../../src/run/identity.js';

test('the right board and build pass', () => {
  assert.doesNotThrow(() => checkIdentity({ boardName: 'sim', buildId: 'abc' }, 'sim', 'abc'));
});

test('another board on the line is refused by name, before the build id is looked at', () => {
  assert.throws(() => checkIdentity({ boardName: 'corstone-300', buildId: 'zzz' }, 'sim', 'abc'), (e: unknown) => {
    assert.ok(e instanceof WrongBoardError);
    assert.equal(e.line(), 'the device on the line is board "corstone-300", not "sim" (check which board is on this port (hil board list), or pick the board file that matches it)');
    return true;
  });
});

test('firmware other than the image just built is refused', () => {
  assert.throws(() => checkIdentity({ boardName: 'sim', buildId: 'old' }, 'sim', 'new'), (e: unknown) => {
    assert.ok(e instanceof WrongFirmwareError);
    assert.equal(e.line(), 'board sim runs firmware build old, not the image just built (new) (reflash the board or rebuild with `hil firmware build`)');
    return true;
  });
});
