// libcurl. curl_easy_setopt/getinfo are variadic and never imported: typed wrappers instead.
#ifndef KR_CCURL_SHIM_H
#define KR_CCURL_SHIM_H
#include <curl/curl.h>

static inline CURLcode kr_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode kr_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode kr_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode kr_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline const char *kr_curl_version(void) { return curl_version_info(CURLVERSION_NOW)->version; }

// PEM data handed over in memory (kubeconfig *-data fields); curl copies it.
static inline CURLcode kr_curl_setopt_blob(CURL *h, CURLoption o, const void *data, size_t len) {
    struct curl_blob blob;
    blob.data = (void *)data;
    blob.len = len;
    blob.flags = CURL_BLOB_COPY;
    return curl_easy_setopt(h, o, &blob);
}

typedef size_t (*kr_curl_write_fn)(char *, size_t, size_t, void *);
static inline CURLcode kr_curl_setopt_write(CURL *h, kr_curl_write_fn fn, void *ctx) {
    CURLcode rc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fn);
    if (rc != CURLE_OK) return rc;
    return curl_easy_setopt(h, CURLOPT_WRITEDATA, ctx);
}

typedef int (*kr_curl_progress_fn)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t);
static inline CURLcode kr_curl_setopt_progress(CURL *h, kr_curl_progress_fn fn, void *ctx) {
    CURLcode rc = curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, fn);
    if (rc != CURLE_OK) return rc;
    rc = curl_easy_setopt(h, CURLOPT_XFERINFODATA, ctx);
    if (rc != CURLE_OK) return rc;
    return curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
}
#endif
