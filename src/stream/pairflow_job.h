/* pairflow C++ (or C) job ABI: build a shared library that exports these functions and run it with
 * `pairflow job run my_job.so --in TOPIC --out TOPIC`.
 *
 *   int  pairflow_setup(pairflow_ctx* ctx, const pairflow_api* api, const char* params_json);
 *   int  pairflow_process(pairflow_ctx* ctx, const pairflow_api* api, const char* payload,
 *                         size_t size, const char* key, size_t key_size);            (required)
 *   int  pairflow_recover(pairflow_ctx* ctx, const pairflow_api* api);                (optional)
 *   const char* pairflow_snapshot(void);   state as JSON text, valid until the next call  (optional)
 *   int  pairflow_restore(const char* json);                                           (optional)
 *   const char* pairflow_last_error(void); message of the last non-zero return         (optional)
 *
 * A non-zero return from pairflow_process sends the message to dlq.<job> with
 * pairflow_last_error(); from pairflow_setup or pairflow_recover it stops the job at start-up.
 * Outputs go through api->emit (topic "" = the job's --out topic, key "" = the input message's
 * key); the runtime checks each is a JSON object before any reaches a topic. All calls come from
 * one thread. C linkage, so any language that can export C symbols works.
 */
#ifndef PAIRFLOW_JOB_H_
#define PAIRFLOW_JOB_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pairflow_ctx pairflow_ctx;

typedef struct pairflow_api {
  void (*emit)(pairflow_ctx* ctx, const char* topic, const char* key, const char* json,
               size_t json_size);
  void (*log)(pairflow_ctx* ctx, int level, const char* text); /* 0 debug .. 3 error */
  void (*metric)(pairflow_ctx* ctx, const char* name, double value);
} pairflow_api;

#ifdef __cplusplus
}
#endif

#endif /* PAIRFLOW_JOB_H_ */
