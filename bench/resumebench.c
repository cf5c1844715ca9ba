// Resumed TLS handshakes per server CPU-second (./build.sh bench): C client threads, each in a loop of connect,
// handshake offering the session its previous connection ended with (a session ticket), one GET with
// "Connection: close", read to the end (the server's new ticket arrives with the answer), close. Counts handshakes
// and how many of them resumed; with -P it reads the server processes' CPU time from /proc over the measured window.
// Build: cc -O2 -o resumebench resumebench.c -lssl -lcrypto -lpthread
// Usage: resumebench -p PORT [-h 127.0.0.1] [-s SNI] [-c 32] [-d 5] [-w 1] [-P PID[,PID]]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host = "127.0.0.1", *sni = "h00000.example.test", *pids = NULL;
static int port = 443, clients = 32, seconds = 5, warmup = 1;
static SSL_CTX *ctx;
static atomic_int measuring, stopping;
static atomic_long handshakes, resumed, failures;

static double server_cpu_seconds(void) {
  if (!pids) return 0;
  double total = 0;
  char list[256];
  snprintf(list, sizeof list, "%s", pids);
  for (char *save = NULL, *pid = strtok_r(list, ",", &save); pid; pid = strtok_r(NULL, ",", &save)) {
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    char *p = strrchr(text, ')');  // fields after the command name; utime and stime are the 12th and 13th
    if (!p) continue;
    unsigned long utime = 0, stime = 0;
    int field = 0;
    for (char *save2 = NULL, *t = strtok_r(p + 2, " ", &save2); t; t = strtok_r(NULL, " ", &save2)) {
      if (++field == 12) utime = strtoul(t, NULL, 10);
      if (field == 13) { stime = strtoul(t, NULL, 10); break; }
    }
    total += (double)(utime + stime) / sysconf(_SC_CLK_TCK);
  }
  return total;
}

static int connect_tcp(void) {
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, host, &address.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) { close(fd); return -1; }
  return fd;
}

static void *client(void *unused) {
  (void)unused;
  SSL_SESSION *session = NULL;
  char request[512], buffer[16384];
  int length = snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", sni);
  while (!atomic_load(&stopping)) {
    int fd = connect_tcp();
    if (fd < 0) { atomic_fetch_add(&failures, 1); continue; }
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, sni);
    if (session) SSL_set_session(ssl, session);
    if (SSL_connect(ssl) == 1 && SSL_write(ssl, request, length) == length) {
      while (SSL_read(ssl, buffer, sizeof buffer) > 0) {}
      if (atomic_load(&measuring)) {
        atomic_fetch_add(&handshakes, 1);
        if (SSL_session_reused(ssl)) atomic_fetch_add(&resumed, 1);
      }
      // A clean close first: SSL_free without it marks the session not resumable (libssl's ssl_clear_bad_session).
      SSL_shutdown(ssl);
      SSL_SESSION *next = SSL_get1_session(ssl);
      if (next && SSL_SESSION_is_resumable(next)) { if (session) SSL_SESSION_free(session); session = next; }
      else if (next) SSL_SESSION_free(next);
    } else {
      atomic_fetch_add(&failures, 1);
      ERR_clear_error();
    }
    SSL_free(ssl);
    close(fd);
  }
  if (session) SSL_SESSION_free(session);
  return NULL;
}

int main(int argc, char **argv) {
  for (int o; (o = getopt(argc, argv, "h:p:s:c:d:w:P:")) != -1;) {
    switch (o) {
      case 'h': host = optarg; break;
      case 'p': port = atoi(optarg); break;
      case 's': sni = optarg; break;
      case 'c': clients = atoi(optarg); break;
      case 'd': seconds = atoi(optarg); break;
      case 'w': warmup = atoi(optarg); break;
      case 'P': pids = optarg; break;
      default: fprintf(stderr, "usage: %s -p PORT [-h HOST] [-s SNI] [-c 32] [-d 5] [-w 1] [-P PID,...]\n", argv[0]); return 2;
    }
  }
  ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  pthread_t *threads = calloc(clients, sizeof *threads);
  for (int i = 0; i < clients; i++) pthread_create(&threads[i], NULL, client, NULL);
  sleep(warmup);
  double cpu0 = server_cpu_seconds();
  atomic_store(&measuring, 1);
  sleep(seconds);
  atomic_store(&measuring, 0);
  double cpu = server_cpu_seconds() - cpu0;
  atomic_store(&stopping, 1);
  for (int i = 0; i < clients; i++) pthread_join(threads[i], NULL);
  long total = atomic_load(&handshakes), reused = atomic_load(&resumed);
  printf("%ld handshakes in %d s, %ld resumed, %ld failed", total, seconds, reused, atomic_load(&failures));
  if (pids && cpu > 0) printf(" => %.1f handshakes per server-CPU-second (server CPU %.2f s)", total / cpu, cpu);
  printf("\n");
  return total > 0 ? 0 : 1;
}
