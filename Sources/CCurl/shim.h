// libcurl. curl_easy_setopt/getinfo are variadic and never imported: typed wrappers instead.
#ifndef KR_CCURL_SHIM_H
#define KR_CCURL_SHIM_H
#include <curl/curl.h>

static inline CURLcode kr_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode kr_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode kr_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode kr_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline const char *kr_curl_version(void) { return curl_version_info(CURLVERSION_NOW)->version; }
#endif
