/** The rule that the portable firmware core never includes a port (scripts/check-firmware-includes.ts). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { coreIncludeViolations } from '../../scripts/check-firmware-includes.js';

test('the committed core includes only core headers', () => {
  assert.deepEqual(coreIncludeViolations(), []);
});

test('a core file that includes a port header, or reaches out of the core, is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hil-core-'));
  try {
    writeFileSync(join(dir, 'ok.h'), '#pragma once\n');
    writeFileSync(join(dir, 'a.c'), '#include <string.h>\n#include "ok.h"\n#include "an547.h"\n  #  include "../ports/host/host_port.h"\n');
    assert.deepEqual(coreIncludeViolations(dir), [
      'firmware/core/a.c:3 includes "an547.h", which is not a core header',
      'firmware/core/a.c:4 includes "../ports/host/host_port.h", which is not a core header',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
