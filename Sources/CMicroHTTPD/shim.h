#ifndef HIREWIRE_CMICROHTTPD_SHIM_H
#define HIREWIRE_CMICROHTTPD_SHIM_H
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

/* Where libmicrohttpd's own messages go, one formatted line each (it prints them raw to stderr
   otherwise, beside Hirewire's JSON log lines). */
typedef void (*hirewire_mhd_line_sink)(const char *line);

static inline void hirewire_mhd_format_log(void *cls, const char *format, va_list arguments) {
    char line[512];
    vsnprintf(line, sizeof line, format, arguments);
    if (cls != NULL) ((hirewire_mhd_line_sink) cls)(line);
}

/* MHD_start_daemon is variadic, which Swift cannot call: this wrapper passes Hirewire's options.
   With key_pem and cert_pem (PEM text) the daemon speaks TLS 1.2 or 1.3 only (GnuTLS). */
static inline struct MHD_Daemon *hirewire_mhd_start(uint16_t port, unsigned int threads,
                                                    MHD_AccessHandlerCallback handler, void *context,
                                                    MHD_RequestCompletedCallback completed,
                                                    unsigned int connection_limit, unsigned int timeout_seconds,
                                                    size_t memory_limit, const char *key_pem, const char *cert_pem,
                                                    hirewire_mhd_line_sink log_sink) {
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *) key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *) cert_pem},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *) "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_OptionItem plain[] = {{MHD_OPTION_END, 0, NULL}};
    int secure = key_pem != NULL && cert_pem != NULL;
    if (secure) flags |= MHD_USE_TLS;
    /* The logger first: messages about the options after it go through it too. */
    return MHD_start_daemon(flags, port, NULL, NULL, handler, context,
                            MHD_OPTION_EXTERNAL_LOGGER, hirewire_mhd_format_log, (void *) log_sink,
                            MHD_OPTION_THREAD_POOL_SIZE, threads,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, context,
                            MHD_OPTION_CONNECTION_LIMIT, connection_limit,
                            MHD_OPTION_CONNECTION_TIMEOUT, timeout_seconds,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory_limit,
                            MHD_OPTION_ARRAY, secure ? tls : plain,
                            MHD_OPTION_END);
}

/* The port a daemon bound (for port 0). */
static inline uint16_t hirewire_mhd_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}
/* The client's address as text (IPv4 or IPv6) into out; "" when unknown. MHD_get_connection_info
   is variadic, which Swift cannot call. */
static inline void hirewire_mhd_peer(struct MHD_Connection *connection, char *out, size_t size) {
    out[0] = 0;
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL) return;
    const struct sockaddr *addr = info->client_addr;
    if (addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *) addr)->sin_addr, out, (socklen_t) size);
    } else if (addr->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) addr)->sin6_addr, out, (socklen_t) size);
    }
}
#endif
