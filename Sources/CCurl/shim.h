#ifndef HIREWIRE_CCURL_SHIM_H
#define HIREWIRE_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: one typed
   wrapper per argument kind. */
static inline CURLcode hirewire_curl_set_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode hirewire_curl_set_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode hirewire_curl_set_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode hirewire_curl_set_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
typedef size_t (*hirewire_curl_data_callback)(char *data, size_t size, size_t count, void *context);
static inline CURLcode hirewire_curl_set_callback(CURL *handle, CURLoption option, hirewire_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode hirewire_curl_set_size(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
/* Reads an upload (an SMTP message) from a callback. */
typedef size_t (*hirewire_curl_read_callback)(char *buffer, size_t size, size_t count, void *context);
static inline CURLcode hirewire_curl_set_reader(CURL *handle, hirewire_curl_read_callback value) {
    return curl_easy_setopt(handle, CURLOPT_READFUNCTION, value);
}
static inline long hirewire_curl_status(CURL *handle) {
    long status = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    return status;
}
#endif
