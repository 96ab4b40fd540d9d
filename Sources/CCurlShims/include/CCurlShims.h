#ifndef GANTRY_CCURLSHIMS_H
#define GANTRY_CCURLSHIMS_H

#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are C varargs functions, which Swift
// cannot call; these typed wrappers can be.
CURLcode gantry_curl_set_long(CURL *handle, CURLoption option, long value);
CURLcode gantry_curl_set_offset(CURL *handle, CURLoption option, curl_off_t value);
CURLcode gantry_curl_set_string(CURL *handle, CURLoption option, const char *value);
CURLcode gantry_curl_set_list(CURL *handle, CURLoption option, struct curl_slist *value);

typedef size_t (*gantry_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);
CURLcode gantry_curl_set_write_callback(CURL *handle, gantry_curl_data_callback callback, void *context);
CURLcode gantry_curl_set_read_callback(CURL *handle, gantry_curl_data_callback callback, void *context);
CURLcode gantry_curl_set_header_callback(CURL *handle, gantry_curl_data_callback callback, void *context);

typedef int (*gantry_curl_progress_callback)(void *context, curl_off_t dltotal, curl_off_t dlnow,
                                             curl_off_t ultotal, curl_off_t ulnow);
CURLcode gantry_curl_set_progress_callback(CURL *handle, gantry_curl_progress_callback callback, void *context);

typedef int (*gantry_curl_seek_callback)(void *context, curl_off_t offset, int origin);
CURLcode gantry_curl_set_seek_callback(CURL *handle, gantry_curl_seek_callback callback, void *context);

// Makes libcurl connect sockets the callback makes (or CURL_SOCKET_BAD) instead
// of its own: `gantry test` reaches a container's port through sockets made
// inside the container's network namespace.
typedef curl_socket_t (*gantry_curl_open_socket_callback)(void *context, curlsocktype purpose,
                                                          struct curl_sockaddr *address);
CURLcode gantry_curl_set_open_socket_callback(CURL *handle, gantry_curl_open_socket_callback callback, void *context);

long gantry_curl_response_code(CURL *handle);

#endif
