/* Helium (MVE) variants of the FC kernels for Armv8.1-M cores such as the Cortex-M55.
 *
 * Bit-exact with the scalar kernels (kernels.c), by construction and by test (firmware/bench/selftest.c
 * compares both on random and extreme cases under QEMU):
 *  - dot products: int32 sums of int8 products, in another order; int32 addition is exact modulo 2^32, so
 *    the order does not matter (VMLADAV accumulates in 32 bits);
 *  - requantisation, four outputs at a time: VQRDMULH equals srdhm exactly (both are
 *    floor((a*b + 2^30) / 2^31) with the same single saturating case), and rdbpot's ties-away-from-zero
 *    is VRSHL's ties-up after subtracting 1 from negative values (saturating, which only matters for
 *    INT32_MIN, where the remainder is 0 anyway); the zero point is added with saturation, which clamps
 *    to the same int8 as the scalar int64 addition.
 *
 * Only what MVE does well is here: dense rows, and block-sparse blocks whose width is 4, 8 or 16 (a
 * 16-byte vector then holds one row of 4, 2 or 1 blocks, gathered so that one VMLADAV still sums 16
 * products of one output row). Other block widths and CSR (whose column deltas form a serial prefix sum)
 * use the scalar kernels. `npm run bench:kernels` measures them all; its figures are emulated
 * instruction counts, in which a gather counts once although it takes several beats on silicon. */
#include "kernels.h"

#if HIL_KERNELS_MVE
#include <arm_mve.h>

/* Dot products are collected here and requantised in vectors of four. */
#define DOT_BATCH 64u

/* Four outputs from acc = bias + dot: mbqm with multipliers m and shifts (left, -right), zero point, clamp. */
static inline __attribute__((always_inline)) int32x4_t requant4(int32x4_t acc, int32x4_t m, int32x4_t left,
                                                                int32x4_t right, int32x4_t zp, int32x4_t lo,
                                                                int32x4_t hi) {
  acc = vqrdmulhq_s32(vshlq_s32(acc, left), m);
  /* rdbpot: -1 on negative values when e > 0 (then -e has its sign bit set), then round half up. */
  acc = vrshlq_s32(vqaddq_s32(acc, vshrq_n_s32(vandq_s32(acc, right), 31)), right);
  return vminq_s32(vmaxq_s32(vqaddq_s32(acc, zp), lo), hi);
}

/* y[o0 .. o0+n) from dot[0 .. n): whole vectors of four, then one predicated vector. Per-channel and
 * per-tensor quantisation get their own loops, so the per-tensor one keeps its constants in registers. */
static inline __attribute__((always_inline)) void requant_loop(const hil_fc_args_t *a, uint32_t o0,
                                                               const int32_t *dot, uint32_t n,
                                                               const int per_channel) {
  const int32x4_t zp = vdupq_n_s32(a->out_zp), lo = vdupq_n_s32(a->act_min), hi = vdupq_n_s32(a->act_max);
  const int32_t *bias = a->bias_eff + o0;
  const int32_t *mult = a->mult + (per_channel ? o0 : 0);
  const int8_t *shift = a->shift + (per_channel ? o0 : 0);
  int8_t *y = a->y + o0;
  int32x4_t m = vdupq_n_s32(mult[0]), sh = vdupq_n_s32(shift[0]);
  int32x4_t left = vmaxq_s32(sh, vdupq_n_s32(0)), right = vminq_s32(sh, vdupq_n_s32(0));
  uint32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    if (per_channel) {
      m = vld1q_s32(mult + i);
      sh = vldrbq_s32(shift + i);
      left = vmaxq_s32(sh, vdupq_n_s32(0));
      right = vminq_s32(sh, vdupq_n_s32(0)); /* -e: a right shift for VRSHL */
    }
    const int32x4_t acc = vaddq_s32(vld1q_s32(bias + i), vld1q_s32(dot + i));
    vstrbq_s32(y + i, requant4(acc, m, left, right, zp, lo, hi));
  }
  if (i < n) {
    const mve_pred16_t p = vctp32q(n - i);
    if (per_channel) {
      m = vldrwq_z_s32(mult + i, p);
      sh = vldrbq_z_s32(shift + i, p);
      left = vmaxq_s32(sh, vdupq_n_s32(0));
      right = vminq_s32(sh, vdupq_n_s32(0));
    }
    const int32x4_t acc = vaddq_s32(vldrwq_z_s32(bias + i, p), vldrwq_z_s32(dot + i, p));
    vstrbq_p_s32(y + i, requant4(acc, m, left, right, zp, lo, hi), p);
  }
}

static void requant_batch(const hil_fc_args_t *a, uint32_t o0, const int32_t *dot, uint32_t n) {
  if (a->per_channel)
    requant_loop(a, o0, dot, n, 1);
  else
    requant_loop(a, o0, dot, n, 0);
}

/* ---- dense ---- */

/* Four rows share each 16-byte load of x. The last partial vector is loaded with a predicate, so no
 * byte past a row (or past the matrix) is read. */
static inline __attribute__((always_inline)) void dense_rows(const int8_t *w, const int8_t *x, uint32_t in,
                                                             int32_t *dot, const int rows) {
  const uint32_t n16 = in >> 4, tail = in & 15u;
  const int8_t *w0 = w, *w1 = w + in, *w2 = w1 + in, *w3 = w2 + in;
  int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (uint32_t k = 0; k < n16; k++) {
    const int8x16_t xv = vld1q_s8(x);
    x += 16;
    s0 = vmladavaq_s8(s0, vld1q_s8(w0), xv);
    w0 += 16;
    if (rows > 1) {
      s1 = vmladavaq_s8(s1, vld1q_s8(w1), xv);
      w1 += 16;
      s2 = vmladavaq_s8(s2, vld1q_s8(w2), xv);
      w2 += 16;
      s3 = vmladavaq_s8(s3, vld1q_s8(w3), xv);
      w3 += 16;
    }
  }
  if (tail) {
    const mve_pred16_t p = vctp8q(tail);
    const int8x16_t xv = vldrbq_z_s8(x, p);
    s0 = vmladavaq_s8(s0, vldrbq_z_s8(w0, p), xv);
    if (rows > 1) {
      s1 = vmladavaq_s8(s1, vldrbq_z_s8(w1, p), xv);
      s2 = vmladavaq_s8(s2, vldrbq_z_s8(w2, p), xv);
      s3 = vmladavaq_s8(s3, vldrbq_z_s8(w3, p), xv);
    }
  }
  dot[0] = s0;
  if (rows > 1) {
    dot[1] = s1;
    dot[2] = s2;
    dot[3] = s3;
  }
}

void hil_fc_dense_mve(const hil_fc_args_t *a, const int8_t *w) {
  const uint32_t in = a->in_features, out = a->out_features;
  int32_t dot[DOT_BATCH];
  uint32_t o = 0;
  while (o < out) {
    const uint32_t n = out - o < DOT_BATCH ? out - o : DOT_BATCH;
    uint32_t i = 0;
    for (; i + 4 <= n; i += 4) dense_rows(w + (o + i) * in, a->x, in, dot + i, 4);
    for (; i < n; i++) dense_rows(w + (o + i) * in, a->x, in, dot + i, 1);
    requant_batch(a, o, dot, n);
    o += n;
  }
}

/* ---- block-sparse ---- */

/* Accumulators for up to 8 rows of a block row live in registers, so each row gets its own macro line
 * (and each gather its literal immediate offset, which GCC requires). GCC 12's write-back gather
 * intrinsics emit two gathers each, so they are not used. */
#define ACC_DECL int32_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0, acc4 = 0, acc5 = 0, acc6 = 0, acc7 = 0
#define ACC_STORE                                                                          \
  do {                                                                                     \
    dot[0] = acc0;                                                                         \
    if (R > 1) dot[1] = acc1;                                                              \
    if (R > 2) { dot[2] = acc2; dot[3] = acc3; }                                           \
    if (R > 4) { dot[4] = acc4; dot[5] = acc5; dot[6] = acc6; dot[7] = acc7; }             \
  } while (0)
#define ROWS(LOAD, bytes)                                                                  \
  do {                                                                                     \
    acc0 = vmladavaq_s8(acc0, LOAD(0, bytes), xv);                                         \
    if (R > 1) acc1 = vmladavaq_s8(acc1, LOAD(1, bytes), xv);                              \
    if (R > 2) {                                                                           \
      acc2 = vmladavaq_s8(acc2, LOAD(2, bytes), xv);                                       \
      acc3 = vmladavaq_s8(acc3, LOAD(3, bytes), xv);                                       \
    }                                                                                      \
    if (R > 4) {                                                                           \
      acc4 = vmladavaq_s8(acc4, LOAD(4, bytes), xv);                                       \
      acc5 = vmladavaq_s8(acc5, LOAD(5, bytes), xv);                                       \
      acc6 = vmladavaq_s8(acc6, LOAD(6, bytes), xv);                                       \
      acc7 = vmladavaq_s8(acc7, LOAD(7, bytes), xv);                                       \
    }                                                                                      \
  } while (0)
#define LOAD_ROW(r, bytes) vld1q_s8(blk + (r) * (bytes))
#define GATHER_ROW(r, bytes) vreinterpretq_s8_s32(vldrwq_gather_base_s32(addr, (r) * (bytes)))
#define GATHER_ROW_Z(r, bytes) vreinterpretq_s8_s32(vldrwq_gather_base_z_s32(addr, (r) * (bytes), p))

/* What a pass over one block row needs: `blk` is the first block's row r0, `stride` a block's size. */
typedef struct {
  const int8_t *x;
  const int8_t *blk;
  const uint16_t *col;
  uint32_t nblk, stride;
  uint32x4_t lanes; /* gather lane offsets within a group of blocks */
} pass_t;

/* Width 16: a block row is one vector, and so is its slice of x. */
static inline __attribute__((always_inline)) void pass_bc16(const pass_t *ps, int32_t *dot, const int R) {
  const int8_t *blk = ps->blk;
  const uint16_t *col = ps->col;
  ACC_DECL;
  for (uint32_t k = 0; k < ps->nblk; k++) {
    const int8x16_t xv = vld1q_s8(ps->x + (uint32_t)*col++ * 16u);
    ROWS(LOAD_ROW, 16);
    blk += ps->stride;
  }
  ACC_STORE;
}

/* Width 8: two blocks at a time. x's two 8-byte slices come in one 64-bit gather indexed by the two
 * column indices, gathered into lanes 0 and 2 (VLDRD takes each offset from the low word of its 64-bit
 * lane, so lanes 1 and 3 do not matter); row r of both blocks is one 32-bit gather at lane addresses
 * {0, 4, s, s + 4} + 8r, s being a block's size. */
static inline __attribute__((always_inline)) void pass_bc8(const pass_t *ps, int32_t *dot, const int R) {
  const uint32x4_t col_offsets = {0, 0, 2, 2};
  const uint64_t *x64 = (const uint64_t *)(const void *)ps->x;
  uint32x4_t addr = vaddq_n_u32(ps->lanes, (uint32_t)(uintptr_t)ps->blk);
  const uint32x4_t step = vdupq_n_u32(2u * ps->stride);
  const uint16_t *col = ps->col;
  ACC_DECL;
  for (uint32_t k = ps->nblk >> 1; k; k--) {
    const uint32x4_t c = vldrhq_gather_offset_u32(col, col_offsets);
    const int8x16_t xv = vreinterpretq_s8_u64(vldrdq_gather_shifted_offset_u64(x64, vreinterpretq_u64_u32(c)));
    ROWS(GATHER_ROW, 8);
    addr = vaddq_u32(addr, step);
    col += 2;
  }
  if (ps->nblk & 1u) { /* one block left: lanes 0-1 only */
    const mve_pred16_t p = vctp32q(2);
    const uint32x4_t c = vldrhq_gather_offset_z_u32(col, col_offsets, p);
    const int8x16_t xv =
        vreinterpretq_s8_u64(vldrdq_gather_shifted_offset_z_u64(x64, vreinterpretq_u64_u32(c), p));
    ROWS(GATHER_ROW_Z, 8);
  }
  ACC_STORE;
}

/* Width 4: four blocks at a time. Their column indices widen into four 32-bit lanes, which index x's
 * four 4-byte slices in one gather; row r of the four blocks is one 32-bit gather at lane addresses
 * {0, s, 2s, 3s} + 4r. */
static inline __attribute__((always_inline)) void pass_bc4(const pass_t *ps, int32_t *dot, const int R) {
  const int32_t *x32 = (const int32_t *)(const void *)ps->x;
  uint32x4_t addr = vaddq_n_u32(ps->lanes, (uint32_t)(uintptr_t)ps->blk);
  const uint32x4_t step = vdupq_n_u32(4u * ps->stride);
  const uint16_t *col = ps->col;
  ACC_DECL;
  for (uint32_t k = ps->nblk >> 2; k; k--) {
    const int8x16_t xv = vreinterpretq_s8_s32(vldrwq_gather_shifted_offset_s32(x32, vldrhq_u32(col)));
    ROWS(GATHER_ROW, 4);
    addr = vaddq_u32(addr, step);
    col += 4;
  }
  if (ps->nblk & 3u) { /* one to three blocks left */
    const mve_pred16_t p = vctp32q(ps->nblk & 3u);
    const int8x16_t xv =
        vreinterpretq_s8_s32(vldrwq_gather_shifted_offset_z_s32(x32, vldrhq_z_u32(col, p), p));
    ROWS(GATHER_ROW_Z, 4);
  }
  ACC_STORE;
}

/* The whole layer for one block width: per block row, passes of 8, 4, 2 and 1 rows, dot products
 * batched for the vector requantisation. Rows past `out` are computed (their weights are zero padding)
 * but never written. */
/* Eight-row passes: the main loop is assembly. VMLADAV accumulates only into even registers (r0, r2,
 * ..., r12, lr: constraint "Te"), so eight accumulators take all of them, lr included, and the loop
 * counts with subs/bne instead of a low-overhead loop. GCC 12 instead spills an accumulator and reloads
 * constants on every iteration (about 30 instructions per 128 MACs instead of 21-22). The loops are the
 * C passes above written out; their tails (a partial group) stay in C. */
#define ASM_ACC_OUT                                                                                 \
  [a0] "+Te"(acc0), [a1] "+Te"(acc1), [a2] "+Te"(acc2), [a3] "+Te"(acc3), [a4] "+Te"(acc4),            \
      [a5] "+Te"(acc5), [a6] "+Te"(acc6), [a7] "+Te"(acc7)
/* Rows 2i and 2i+1 of a partial group: loads predicated by P0 (inactive lanes read nothing, load 0). */
#define ASM_ROW_PAIR_Z(i, j, immi, immj)                                                          \
  "vpstt\n\t"                                                                                    \
  "vldrwt.u32 %q[w0], [%q[addr], #" #immi "]\n\t"                                                \
  "vldrwt.u32 %q[w1], [%q[addr], #" #immj "]\n\t"                                                \
  "vmladava.s8 %[a" #i "], %q[w0], %q[xv]\n\t"                                                   \
  "vmladava.s8 %[a" #j "], %q[w1], %q[xv]\n\t"
#define ASM_ROWS_Z(bytes)                                                                         \
  ASM_ROW_PAIR_Z(0, 1, 0, bytes) ASM_ROW_PAIR_Z(2, 3, 2 * bytes, 3 * bytes)                       \
  ASM_ROW_PAIR_Z(4, 5, 4 * bytes, 5 * bytes) ASM_ROW_PAIR_Z(6, 7, 6 * bytes, 7 * bytes)
#define ASM_ROW(i, q, imm) "vldrw.u32 %q[" #q "], [%q[addr], #" #imm "]\n\tvmladava.s8 %[a" #i "], %q[" #q "], %q[xv]\n\t"

static inline __attribute__((always_inline)) void pass_bc8_asm(const pass_t *ps, int32_t *dot, const int R) {
  const uint32x4_t col_offsets = {0, 0, 2, 2};
  const uint64_t *x64 = (const uint64_t *)(const void *)ps->x;
  uint32x4_t addr = vaddq_n_u32(ps->lanes, (uint32_t)(uintptr_t)ps->blk);
  const uint32x4_t step = vdupq_n_u32(2u * ps->stride);
  const uint16_t *col = ps->col;
  ACC_DECL;
  uint32_t pairs = ps->nblk >> 1;
  if (pairs) {
    uint32x4_t c;
    int8x16_t xv, w0, w1;
    __asm volatile(
        "1:\n\t"
        "vldrh.u32 %q[c], [%[col], %q[coff]]\n\t"
        "adds %[col], %[col], #4\n\t"
        "vldrd.u64 %q[xv], [%[x], %q[c], uxtw #3]\n\t"
        ASM_ROW(0, w0, 0) ASM_ROW(1, w1, 8) ASM_ROW(2, w0, 16) ASM_ROW(3, w1, 24)
        ASM_ROW(4, w0, 32) ASM_ROW(5, w1, 40) ASM_ROW(6, w0, 48) ASM_ROW(7, w1, 56)
        "vadd.i32 %q[addr], %q[addr], %q[step]\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n"
        : ASM_ACC_OUT, [n] "+r"(pairs), [col] "+r"(col), [addr] "+w"(addr), [c] "=&w"(c), [xv] "=&w"(xv),
          [w0] "=&w"(w0), [w1] "=&w"(w1)
        : [x] "r"(x64), [coff] "w"(col_offsets), [step] "w"(step)
        : "cc", "memory");
  }
  if (ps->nblk & 1u) { /* one block left: the same with lanes 0-1 only (zeroing predicated loads) */
    uint32x4_t c;
    int8x16_t xv, w0, w1;
    __asm volatile(
        "vctp.32 %[lanes]\n\t"
        "vpstt\n\t"
        "vldrht.u32 %q[c], [%[col], %q[coff]]\n\t"
        "vldrdt.u64 %q[xv], [%[x], %q[c], uxtw #3]\n\t"
        ASM_ROWS_Z(8)
        : ASM_ACC_OUT, [c] "=&w"(c), [xv] "=&w"(xv), [w0] "=&w"(w0), [w1] "=&w"(w1)
        : [lanes] "r"(2), [col] "r"(col), [x] "r"(x64), [coff] "w"(col_offsets), [addr] "w"(addr)
        : "memory");
  }
  ACC_STORE;
}

static inline __attribute__((always_inline)) void pass_bc4_asm(const pass_t *ps, int32_t *dot, const int R) {
  const int32_t *x32 = (const int32_t *)(const void *)ps->x;
  uint32x4_t addr = vaddq_n_u32(ps->lanes, (uint32_t)(uintptr_t)ps->blk);
  const uint32x4_t step = vdupq_n_u32(4u * ps->stride);
  const uint16_t *col = ps->col;
  ACC_DECL;
  uint32_t quads = ps->nblk >> 2;
  if (quads) {
    uint32x4_t c;
    int8x16_t xv, w0, w1;
    __asm volatile(
        "1:\n\t"
        "vldrh.u32 %q[c], [%[col]], #8\n\t"
        "vldrw.u32 %q[xv], [%[x], %q[c], uxtw #2]\n\t"
        ASM_ROW(0, w0, 0) ASM_ROW(1, w1, 4) ASM_ROW(2, w0, 8) ASM_ROW(3, w1, 12)
        ASM_ROW(4, w0, 16) ASM_ROW(5, w1, 20) ASM_ROW(6, w0, 24) ASM_ROW(7, w1, 28)
        "vadd.i32 %q[addr], %q[addr], %q[step]\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n"
        : ASM_ACC_OUT, [n] "+r"(quads), [col] "+r"(col), [addr] "+w"(addr), [c] "=&w"(c), [xv] "=&w"(xv),
          [w0] "=&w"(w0), [w1] "=&w"(w1)
        : [x] "r"(x32), [step] "w"(step)
        : "cc", "memory");
  }
  if (ps->nblk & 3u) { /* one to three blocks left: the same with fewer lanes */
    uint32x4_t c;
    int8x16_t xv, w0, w1;
    __asm volatile(
        "vctp.32 %[lanes]\n\t"
        "vpstt\n\t"
        "vldrht.u32 %q[c], [%[col]]\n\t"
        "vldrwt.u32 %q[xv], [%[x], %q[c], uxtw #2]\n\t"
        ASM_ROWS_Z(4)
        : ASM_ACC_OUT, [c] "=&w"(c), [xv] "=&w"(xv), [w0] "=&w"(w0), [w1] "=&w"(w1)
        : [lanes] "r"(ps->nblk & 3u), [col] "r"(col), [x] "r"(x32), [addr] "w"(addr)
        : "memory");
  }
  ACC_STORE;
}

/* One pass (R rows from r0) over each of the block rows [rb0, rb1): a function of its own, so that its
 * accumulators get the registers (inlined into the layer loop, GCC spills them), and a loop, so that
 * its call and set-up are paid once per batch rather than once per block row. */
typedef struct {
  const int8_t *x, *blocks;
  const uint16_t *row_ptr, *col_idx;
  uint32_t br, stride;
  uint32x4_t lanes;
} rows_t;

#define PASS_FN(NAME, PASS, BC, R)                                                                      \
  static __attribute__((noinline)) void NAME(const rows_t *L, uint32_t rb0, uint32_t rb1, uint32_t r0,    \
                                             int32_t *dot) {                                            \
    pass_t ps = {L->x, 0, 0, 0, L->stride, L->lanes};                                                   \
    for (uint32_t rb = rb0; rb < rb1; rb++, dot += L->br) {                                             \
      const uint32_t k0 = L->row_ptr[rb];                                                               \
      ps.blk = L->blocks + k0 * L->stride + r0 * (BC);                                                  \
      ps.col = L->col_idx + k0;                                                                         \
      ps.nblk = L->row_ptr[rb + 1] - k0;                                                                \
      PASS(&ps, dot + r0, R);                                                                           \
    }                                                                                                   \
  }
PASS_FN(rows_bc16_8, pass_bc16, 16u, 8) PASS_FN(rows_bc16_4, pass_bc16, 16u, 4)
PASS_FN(rows_bc16_2, pass_bc16, 16u, 2) PASS_FN(rows_bc16_1, pass_bc16, 16u, 1)
PASS_FN(rows_bc8_8, pass_bc8_asm, 8u, 8) PASS_FN(rows_bc8_4, pass_bc8, 8u, 4)
PASS_FN(rows_bc8_2, pass_bc8, 8u, 2) PASS_FN(rows_bc8_1, pass_bc8, 8u, 1)
PASS_FN(rows_bc4_8, pass_bc4_asm, 4u, 8) PASS_FN(rows_bc4_4, pass_bc4, 4u, 4)
PASS_FN(rows_bc4_2, pass_bc4, 4u, 2) PASS_FN(rows_bc4_1, pass_bc4, 4u, 1)

/* The whole layer for one block width: batches of block rows whose dot products fit DOT_BATCH; per
 * batch, passes of 8, 4, 2 and 1 rows, then the vector requantisation. Rows past `out` are computed
 * (their weights are zero padding) but never written. */
#define BLOCK_LAYER(NAME, ROWS_FN, BC, LANES)                                                           \
  static void NAME(const hil_fc_args_t *a, const hil_fc_block_t *w) {                                   \
    const uint32_t br = w->br, out = a->out_features, nbr = (out + br - 1u) / br;                       \
    const uint32_t per_batch = DOT_BATCH / br;                                                          \
    const rows_t L = {a->x, w->blocks, w->row_ptr, w->col_idx, br, br * (BC), LANES};                   \
    int32_t dot[DOT_BATCH];                                                                             \
    for (uint32_t rb0 = 0; rb0 < nbr; rb0 += per_batch) {                                               \
      const uint32_t rb1 = rb0 + per_batch < nbr ? rb0 + per_batch : nbr;                               \
      uint32_t r = 0;                                                                                   \
      for (; r + 8 <= br; r += 8) ROWS_FN##_8(&L, rb0, rb1, r, dot);                                    \
      if (br - r >= 4) { ROWS_FN##_4(&L, rb0, rb1, r, dot); r += 4; }                                   \
      if (br - r >= 2) { ROWS_FN##_2(&L, rb0, rb1, r, dot); r += 2; }                                   \
      if (br - r >= 1) ROWS_FN##_1(&L, rb0, rb1, r, dot);                                               \
      const uint32_t o0 = rb0 * br, n = (rb1 - rb0) * br;                                               \
      requant_batch(a, o0, dot, o0 + n <= out ? n : out - o0);                                          \
    }                                                                                                   \
  }

BLOCK_LAYER(block_layer_bc16, rows_bc16, 16u, vdupq_n_u32(0))
BLOCK_LAYER(block_layer_bc8, rows_bc8, 8u, ((uint32x4_t){0, 4, br * 8u, br * 8u + 4}))
BLOCK_LAYER(block_layer_bc4, rows_bc4, 4u, ((uint32x4_t){0, br * 4u, br * 8u, br * 12u}))

void hil_fc_block_mve(const hil_fc_args_t *a, const hil_fc_block_t *w) {
  switch (w->bc) {
    case 16: block_layer_bc16(a, w); break;
    case 8: block_layer_bc8(a, w); break;
    case 4: block_layer_bc4(a, w); break;
    default: hil_fc_block_scalar(a, w); break;
  }
}

#endif
