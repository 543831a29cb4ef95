"""Issue 9 scenario 15 in Kubernetes mode: a WebSocket through the proxy, to a backend
named by an Ingress applied with kubectl, on both dataplanes."""
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from k8s import K8sTestCase, ingress, instance  # noqa: E402


def websocket_roundtrip(port, host, path, texts):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(5)
    try:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(1)
            if not chunk:
                raise AssertionError(f"connection closed during the handshake: {head!r}")
            head += chunk
        echoed = []
        for text in texts:
            mask = b"\x01\x02\x03\x04"
            masked = bytes(b ^ mask[i % 4] for i, b in enumerate(text))
            length = bytes([0x80 | len(text)]) if len(text) < 126 else bytes([0x80 | 126]) + len(text).to_bytes(2, "big")
            s.sendall(b"\x81" + length + mask + masked)
            want = 2 + (0 if len(text) < 126 else 2) + len(text)
            frame = b""
            while len(frame) < want:
                chunk = s.recv(4096)
                if not chunk:
                    break
                frame += chunk
            echoed.append(frame[-len(text):] if frame[:1] == b"\x81" else frame)
        return head, echoed
    finally:
        s.close()


class K8sProxyTest(K8sTestCase):
    def test_15_websocket(self):
        env = self.world()
        env.backend_service("ws", 1)
        env.apply(ingress("ws", rules=[("ws.test", [("/socket", "Prefix", "ws")])]))
        env.wait_served("/socket", "ws.test", "ws")
        texts = [b"hello", b"x" * 300]
        for dp in env.dataplanes:
            head, echoed = websocket_roundtrip(dp.http_port, "ws.test", "/socket/chat", texts)
            self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
            self.assertIn(b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", head)  # RFC 6455's sample accept value
            self.assertEqual(echoed, texts)
        # The connection is reusable for plain requests afterwards.
        self.assertEqual(instance(env.get("/socket", "ws.test")), "ws-0")


if __name__ == "__main__":
    unittest.main()
