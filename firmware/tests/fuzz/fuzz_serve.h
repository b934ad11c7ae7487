/* The serve fuzzer's input format, shared by the harness (fuzz_serve.c) and its seed generator
 * (serve_seeds.c).
 *
 * Byte 0 sets the session up: bits 0-2 pick the model placed in the partition (modulo the number the
 * harness preloads), bit 3 makes the port's latency kind modelled instead of measured, bit 4 sends CONFIG
 * before MODEL_ACTIVATE. The harness then scripts HELLO (seq 0), the optional CONFIG and MODEL_ACTIVATE of
 * that model, so every input starts with an active model: random bytes alone would almost never carry a
 * frame with a valid CRC, let alone upload and activate a model, and RUN_FRAME would stay unreached.
 *
 * The rest is a sequence of records, op:u8 len:u16le body[len] (a short last record takes what is left):
 *   op & 3 == 0  raw bytes for the wire as they are: garbage, delimiters, wake lines, broken frames
 *   op & 3 == 1  a frame with the sequence number the device expects next: type:u8 flags:u8 payload
 *   op & 3 == 2  a frame with the given sequence number: type:u8 flags:u8 seq:u16le payload
 *   op & 3 == 3  the previous frame again, byte for byte (a retransmission); the body is ignored
 * The harness encodes frames itself (COBS, CRC), so mutations reach the handlers instead of dying on the
 * CRC check; payloads longer than HIL_MAX_PAYLOAD are cut to it. */
#ifndef HIL_FUZZ_SERVE_H
#define HIL_FUZZ_SERVE_H

enum { FUZZ_OP_RAW = 0, FUZZ_OP_NEXT = 1, FUZZ_OP_SEQ = 2, FUZZ_OP_REPEAT = 3 };

#define FUZZ_SETUP_MODEL_MASK 0x07u
#define FUZZ_SETUP_MODELLED 0x08u
#define FUZZ_SETUP_CONFIG 0x10u

/* The models the harness preloads, in the order byte 0 picks them. The mini blob (tests/support) comes
 * last; its hop is 256. */
#define FUZZ_SERVE_VECTORS {"tiny-hop128", "tiny-dense", "tiny-block4x4", "tiny-csr", "tiny-mixed"}
#define FUZZ_SERVE_N_VECTORS 5u
#define FUZZ_SERVE_N_MODELS (FUZZ_SERVE_N_VECTORS + 1u)

#endif
