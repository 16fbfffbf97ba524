/*
 * The scale benchmark's load generator: many one-way UDP flows at a set rate. Flow i starts
 * at i / NEW_PER_SEC seconds and sends PACKETS datagrams GAP_MS apart, so about
 * NEW_PER_SEC * (PACKETS - 1) * GAP_MS / 1000 flows are alive at once. Flow i goes from
 * source port SPORT_BASE + i / 50000 (one socket each) to DST_IP, destination port
 * 10000 + i % 50000: each flow is its own 5-tuple, up to 50,000 flows per source port.
 *
 *   udp-flows DST_IP SECONDS NEW_PER_SEC PACKETS GAP_MS PAYLOAD SPORT_BASE [TEXT]
 *
 * Every datagram carries PAYLOAD bytes: TEXT (repeated to fill them) when given, else 'x's.
 * New flows are started for SECONDS; then the running ones finish. Prints
 * {"flows":N,"sent":N,"errors":N,"seconds":S,"late_ms":N}: late_ms is how far behind its
 * schedule the sender fell at worst (it should stay small, else the rates are not met).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PER_PORT 50000
#define BATCH 64

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int *socks;
static int nsocks;
static struct mmsghdr msgs[BATCH];
static struct iovec iov[BATCH];
static struct sockaddr_in to[BATCH];
static int pending, pending_sock = -1;
static char payload[1500];
static long sent, errors;

static void flush(void) {
	if (!pending) return;
	int off = 0;
	while (off < pending) {
		int n = sendmmsg(socks[pending_sock], msgs + off, (unsigned)(pending - off), 0);
		if (n < 0) {
			if (errno == EINTR) continue;
			errors += pending - off;
			break;
		}
		sent += n;
		off += n;
	}
	pending = 0;
}

static void queue(long flow, const struct in_addr *dst, int size) {
	int s = (int)(flow / PER_PORT);
	if (s != pending_sock || pending == BATCH) {
		flush();
		pending_sock = s;
	}
	to[pending].sin_family = AF_INET;
	to[pending].sin_addr = *dst;
	to[pending].sin_port = htons((uint16_t)(10000 + flow % PER_PORT));
	iov[pending].iov_base = payload;
	iov[pending].iov_len = (size_t)size;
	memset(&msgs[pending], 0, sizeof msgs[pending]);
	msgs[pending].msg_hdr.msg_name = &to[pending];
	msgs[pending].msg_hdr.msg_namelen = sizeof to[pending];
	msgs[pending].msg_hdr.msg_iov = &iov[pending];
	msgs[pending].msg_hdr.msg_iovlen = 1;
	pending++;
}

int main(int argc, char **argv) {
	if (argc < 8) {
		fprintf(stderr, "usage: %s DST_IP SECONDS NEW_PER_SEC PACKETS GAP_MS PAYLOAD SPORT_BASE [TEXT]\n",
		        argv[0]);
		return 2;
	}
	struct in_addr dst;
	if (inet_pton(AF_INET, argv[1], &dst) != 1) return 2;
	double seconds = atof(argv[2]);
	double rate = atof(argv[3]);
	int packets = atoi(argv[4]);
	double gap = atof(argv[5]) / 1000.0;
	int size = atoi(argv[6]);
	int base = atoi(argv[7]);
	if (rate <= 0 || packets < 1 || size < 1 || size > 1400) return 2;
	long flows = (long)(seconds * rate);
	nsocks = (int)((flows + PER_PORT - 1) / PER_PORT);
	socks = calloc((size_t)nsocks, sizeof *socks);
	for (int i = 0; i < nsocks; i++) {
		socks[i] = socket(AF_INET, SOCK_DGRAM, 0);
		int buf = 4 << 20;
		setsockopt(socks[i], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
		struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(base + i))};
		if (bind(socks[i], (struct sockaddr *)&me, sizeof me) < 0) {
			perror("bind");
			return 1;
		}
	}
	memset(payload, 'x', sizeof payload);
	if (argc > 8 && argv[8][0]) {
		size_t n = strlen(argv[8]);
		for (size_t i = 0; i < sizeof payload; i++) payload[i] = argv[8][i % n];
	}

	/* Packet k of flow i is due at i / rate + k * gap: walk the schedule in 1 ms steps,
	 * sending, for each k, the flows whose packet k fell due in the step. */
	double t0 = now(), late = 0;
	double end = seconds + (packets - 1) * gap;
	long *next = calloc((size_t)packets, sizeof *next); /* per k: first flow not yet sent */
	for (double t = 0; t <= end + 0.001; t += 0.001) {
		double wait = t0 + t - now();
		if (wait > 0) {
			struct timespec ts = {0, (long)(wait * 1e9)};
			nanosleep(&ts, NULL);
		} else if (-wait > late) {
			late = -wait;
		}
		for (int k = 0; k < packets; k++) {
			double start = t - k * gap; /* flows that started by then are due packet k */
			if (start < 0) break;
			long upto = (long)(start * rate) + 1;
			if (upto > flows) upto = flows;
			for (long i = next[k]; i < upto; i++) queue(i, &dst, size);
			if (upto > next[k]) next[k] = upto;
		}
		flush();
	}
	printf("{\"flows\":%ld,\"sent\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"late_ms\":%.0f}\n", flows, sent,
	       errors, now() - t0, late * 1000);
	return 0;
}
