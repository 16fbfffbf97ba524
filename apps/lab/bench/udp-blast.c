/*
 * The benchmark's load generator: small UDP datagrams as fast as one thread can send them
 * (sendmmsg, 64 at a time), spread over FLOWS sockets bound to source ports BASE..BASE+FLOWS-1,
 * for SECONDS seconds or until every flow has sent LIMIT datagrams (LIMIT 0: no limit).
 *
 *   udp-blast DST_IP DST_PORT SECONDS FLOWS PAYLOAD_BYTES SRC_PORT_BASE [LIMIT [GAP_US]]
 *
 * Prints {"sent":N,"errors":N,"seconds":S,"cpu_us":N}: cpu_us is the process's user+system
 * time, which (tick accounting, no IRQ time accounting) includes the softirq work done in
 * its send calls: the whole forwarding path through the router namespace to the server.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
	if (argc < 7) {
		fprintf(stderr, "usage: %s DST_IP DST_PORT SECONDS FLOWS PAYLOAD SRC_PORT_BASE [LIMIT [GAP_US]]\n", argv[0]);
		return 2;
	}
	const char *dst = argv[1];
	int port = atoi(argv[2]);
	double seconds = atof(argv[3]);
	int flows = atoi(argv[4]);
	int size = atoi(argv[5]);
	int base = atoi(argv[6]);
	long limit = argc > 7 ? atol(argv[7]) : 0;
	int gap = argc > 8 ? atoi(argv[8]) : 0;
	if (flows < 1 || flows > 1024 || size < 1 || size > 1400) return 2;

	int *socks = calloc((size_t)flows, sizeof *socks);
	long *sent_by = calloc((size_t)flows, sizeof *sent_by);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, dst, &to.sin_addr);
	for (int i = 0; i < flows; i++) {
		socks[i] = socket(AF_INET, SOCK_DGRAM, 0);
		int one = 1;
		setsockopt(socks[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(base + i))};
		if (bind(socks[i], (struct sockaddr *)&from, sizeof from) < 0 ||
		    connect(socks[i], (struct sockaddr *)&to, sizeof to) < 0) {
			perror("bind/connect");
			return 1;
		}
	}
	char *payload = malloc((size_t)size);
	for (int i = 0; i < size; i++) payload[i] = (char)('a' + i % 26);
	struct iovec iov = {.iov_base = payload, .iov_len = (size_t)size};
	struct mmsghdr msgs[BATCH];
	memset(msgs, 0, sizeof msgs);
	for (int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	long sent = 0, errors = 0;
	double start = now(), end = start + seconds;
	int done = 0;
	while (!done) {
		done = 1;
		for (int i = 0; i < flows; i++) {
			int n = BATCH;
			if (limit) {
				if (sent_by[i] >= limit) continue;
				if (limit - sent_by[i] < n) n = (int)(limit - sent_by[i]);
				if (gap) n = 1;
			}
			done = 0;
			int r = sendmmsg(socks[i], msgs, (unsigned)n, 0);
			if (r > 0) {
				sent += r;
				sent_by[i] += r;
			} else {
				errors++;
			}
		}
		if (gap) usleep((useconds_t)gap);
		if (now() >= end) break;
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	long cpu_us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
	printf("{\"sent\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"cpu_us\":%ld}\n", sent, errors, now() - start, cpu_us);
	return 0;
}
