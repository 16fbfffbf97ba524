/*
 * The baseline NFQUEUE consumer for the benchmark: libnetfilter_queue's textbook loop
 * (recv, nfq_handle_packet, callback, nfq_set_verdict NF_ACCEPT), no classification.
 *
 *   nfq-minimal QUEUE [COPY_RANGE [MAXLEN [FAIL_OPEN [MARK [RCVBUF [BATCH]]]]]]
 *
 * MARK (non-zero): every verdict also sets this packet mark (the steady-state bench's
 * baseline decides its flows with it, so their connmark is saved).
 * RCVBUF: the socket's receive buffer in bytes (8 MiB).
 * BATCH > 1: the batched loop instead, the cheapest a consumer can be: recvmmsg() up to
 * BATCH messages per call and one NFQNL_MSG_VERDICT_BATCH (nfq_set_verdict_batch2) for
 * all of them (the ceiling any consumer, Sluice's included, can reach on this machine).
 *
 * Prints "ready" once bound; on SIGTERM/SIGINT prints {"packets":N,"enobufs":N} and exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

static volatile sig_atomic_t stop;
static unsigned long packets, enobufs;
static uint32_t verdict_mark;
static int batching;
static uint32_t last_id;

static void on_signal(int sig) { (void)sig; stop = 1; }

static int cb(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data) {
	(void)msg;
	(void)data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	uint32_t id = ph ? ntohl(ph->packet_id) : 0;
	packets++;
	if (batching) {
		last_id = id;
		return 0;
	}
	if (verdict_mark) return nfq_set_verdict2(qh, id, NF_ACCEPT, verdict_mark, 0, NULL);
	return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: %s QUEUE [COPY_RANGE [MAXLEN [FAIL_OPEN [MARK]]]]\n", argv[0]);
		return 2;
	}
	int queue = atoi(argv[1]);
	int range = argc > 2 ? atoi(argv[2]) : 0xffff;
	int maxlen = argc > 3 ? atoi(argv[3]) : 4096;
	int failopen = argc > 4 ? atoi(argv[4]) : 1;
	verdict_mark = argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 0) : 0;
	int rcvbuf = argc > 6 ? atoi(argv[6]) : 8 * 1024 * 1024;
	int batch = argc > 7 ? atoi(argv[7]) : 1;
	if (batch > 1024) batch = 1024;
	batching = batch > 1;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: recv() returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	struct nfq_handle *h = nfq_open();
	if (!h) { perror("nfq_open"); return 1; }
	nfq_unbind_pf(h, AF_INET);
	nfq_bind_pf(h, AF_INET);
	struct nfq_q_handle *qh = nfq_create_queue(h, (uint16_t)queue, cb, NULL);
	if (!qh) { perror("nfq_create_queue"); return 1; }
	if (nfq_set_mode(qh, NFQNL_COPY_PACKET, (unsigned)range) < 0) { perror("nfq_set_mode"); return 1; }
	nfq_set_queue_maxlen(qh, (uint32_t)maxlen);
	uint32_t mask = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO;
	nfq_set_queue_flags(qh, mask, (failopen ? NFQA_CFG_F_FAIL_OPEN : 0) | NFQA_CFG_F_GSO);
	int fd = nfq_fd(h);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
	printf("ready\n");
	fflush(stdout);

	static char buf[65536] __attribute__((aligned));
	if (batching) {
		enum { SLOT = 4096 };
		char *ring = malloc((size_t)batch * SLOT);
		struct mmsghdr *msgs = calloc((size_t)batch, sizeof *msgs);
		struct iovec *iov = calloc((size_t)batch, sizeof *iov);
		if (!ring || !msgs || !iov) { perror("malloc"); return 1; }
		for (int i = 0; i < batch; i++) {
			iov[i].iov_base = ring + (size_t)i * SLOT;
			iov[i].iov_len = SLOT;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		while (!stop) {
			int n = recvmmsg(fd, msgs, (unsigned)batch, MSG_WAITFORONE, NULL);
			if (n < 0) {
				if (errno == ENOBUFS) enobufs++;
				else if (errno != EINTR) { perror("recvmmsg"); break; }
				continue;
			}
			unsigned long before = packets;
			for (int i = 0; i < n; i++) nfq_handle_packet(h, iov[i].iov_base, (int)msgs[i].msg_len);
			if (packets != before) {
				if (verdict_mark) nfq_set_verdict_batch2(qh, last_id, NF_ACCEPT, verdict_mark);
				else nfq_set_verdict_batch(qh, last_id, NF_ACCEPT);
			}
		}
		stop = 1;
	}
	while (!stop) {
		int rv = (int)recv(fd, buf, sizeof buf, 0);
		if (rv >= 0) {
			nfq_handle_packet(h, buf, rv);
		} else if (errno == ENOBUFS) {
			enobufs++;
		} else if (errno != EINTR) {
			perror("recv");
			break;
		}
	}
	nfq_destroy_queue(qh);
	nfq_close(h);
	printf("{\"packets\":%lu,\"enobufs\":%lu}\n", packets, enobufs);
	return 0;
}
