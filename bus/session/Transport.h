// The session's transport: one listening port, plain or TLS, that speaks just
// enough HTTP/1.1 for the WebSocket upgrade (RFC 6455) and frames messages
// itself, so that every limit is ours to set and to test:
//
// - a connection is *pending* from the TCP accept until the session admits it
//   (a successful Join): pending connections have their own budget, a cap per
//   address and in all, and the oldest pending one makes room for a new one;
//   a joined client is never displaced by a pending one;
// - the HTTP request (and the TLS handshake before it) must finish within a
//   few seconds; the request head is bounded;
// - near the process's descriptor limit the port stops accepting (no busy
//   loop) until connections have gone;
// - client frames must be masked (else 1002), control frames well formed,
//   text valid UTF-8 (else 1007), and no message over the limit (1009, decided
//   from the frame header, before its payload is buffered).
//
// Event frames are built once (textFrame) and written as they are to every
// client that receives them.
#pragma once

#include "Result.h"

#include <QByteArray>
#include <QHash>
#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <memory>

class QTcpServer;
class QTcpSocket;

namespace eventdesk::session {

struct TransportLimits {
    qint64 maxMessageBytes = 64 * 1024;  // per message and per frame
    int handshakeTimeoutMs = 5000;       // TCP accept → WebSocket open, TLS included
    int maxRequestBytes = 8 * 1024;      // the HTTP request head
    int maxPendingPerAddress = 16;       // connections not admitted yet, per address
    int maxPending = 64;                 // … and in all
    int closeGraceMs = 1000;             // after our close frame, how long the peer has to answer
    int descriptorReserve = 64;          // descriptors kept free for the database, logs, …
};

// An HTTP request that is not an upgrade (the player page, /metrics).
struct HttpRequest {
    QByteArray method;
    QByteArray target;  // path and query, as sent
    QList<std::pair<QByteArray, QByteArray>> headers;  // names in lower case
    QByteArray header(const QByteArray &lowerName) const;
};

struct HttpResponse {
    int status = 404;
    QByteArray contentType = "text/plain; charset=utf-8";
    QByteArray body;
    QList<std::pair<QByteArray, QByteArray>> headers;
    bool headOnly = false;   // a HEAD request: the headers, not the body
    bool cacheable = false;  // else Cache-Control: no-store
};

// One unmasked text frame (RFC 6455 §5.2) around a UTF-8 payload.
QByteArray textFrame(const QByteArray &utf8);

class Transport;

class Connection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Connection)
public:
    enum class State { Request, Open, Closing, Closed };

    ~Connection() override;

    State state() const { return m_state; }
    QHostAddress peerAddress() const { return m_address; }
    QString peer() const;  // address:port
    QByteArray origin() const { return m_origin; }
    QByteArray target() const { return m_target; }
    qint64 bytesToWrite() const;
    bool isAdmitted() const { return m_admitted; }

    // Whole frames (textFrame), written as they are.
    void write(const QByteArray &frames);
    void ping();
    // Sends a close frame; the TCP connection ends when the peer answers, or
    // after the grace period.
    void close(int code, const QString &reason);
    // Ends the connection now, discarding what is unsent.
    void abort();

Q_SIGNALS:
    void textReceived(const QByteArray &utf8);
    void binaryReceived();
    void pongReceived();
    void bytesWritten();
    // Queued: never inside a call into this connection. The object is deleted after it.
    void disconnected();

private:
    friend class Transport;
    Connection(Transport &transport, QTcpSocket *socket, qint64 acceptedAtMs);
    void onReadyRead();
    void readRequest();
    void upgrade(const HttpRequest &request);
    void answerHttp(const HttpResponse &response);
    void readFrames();
    void failProtocol(int code, const QString &why);
    void writeControl(quint8 opcode, const QByteArray &payload);
    void send(QByteArrayView bytes);
    void finish();

    Transport &m_transport;
    QTcpSocket *m_socket;  // child
    State m_state = State::Request;
    QHostAddress m_address;
    quint16 m_port = 0;
    qint64 m_acceptedAtMs = 0;
    bool m_admitted = false;
    bool m_closeSent = false;
    bool m_plainTcp = true;  // not TLS: frames may go straight to the descriptor
    QByteArray m_in;
    QByteArray m_message;   // a fragmented message being assembled
    int m_messageOpcode = 0;
    QByteArray m_origin;
    QByteArray m_target;
};

class Transport final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Transport)
public:
    // origin: the request's Origin header; host: its Host header.
    using OriginCheck = std::function<bool(const QString &origin, const QString &host)>;
    using HttpHandler = std::function<HttpResponse(const HttpRequest &)>;

    struct Counters {
        qint64 accepted = 0;
        qint64 refusedPerAddress = 0;  // over the per-address pending cap
        qint64 evicted = 0;            // oldest pending dropped for a newer one
        qint64 handshakeTimeouts = 0;
        qint64 badRequests = 0;        // not HTTP, not a valid upgrade, wrong Origin
        qint64 protocolErrors = 0;     // unmasked or malformed frames
        qint64 acceptPauses = 0;       // times the port stopped accepting near the descriptor limit
    };

    explicit Transport(TransportLimits limits, QObject *parent = nullptr);
    ~Transport() override;

    // tlsCertificate/tlsKey: PEM files, both set for wss://.
    Result<bool> listen(const QHostAddress &address, quint16 port, const QString &tlsCertificate = {},
                        const QString &tlsKey = {});
    void close();
    bool isListening() const;
    bool isTls() const { return m_tls; }
    quint16 port() const;

    void setOriginCheck(OriginCheck check) { m_originCheck = std::move(check); }
    void setHttpHandler(HttpHandler handler) { m_httpHandler = std::move(handler); }

    // The session took this connection in (it joined): it leaves the pending budget.
    void admit(Connection *connection);

    int pendingCount() const { return int(m_pending.size()); }
    int openCount() const { return m_open; }
    bool isAcceptPaused() const { return m_paused; }
    int descriptorBudget() const { return m_descriptorBudget; }
    const Counters &counters() const { return m_counters; }
    const TransportLimits &limits() const { return m_limits; }

    // Raises the soft RLIMIT_NOFILE to the hard one; returns the soft limit now.
    static qint64 raiseDescriptorLimit();

Q_SIGNALS:
    // The WebSocket handshake is done; the session waits for its Join.
    void connectionOpened(eventdesk::session::Connection *connection);
    // A connection refused before it could join, with why (logged by the session).
    void refused(const QString &address, const QString &reason);

private:
    friend class Connection;
    class Listener;
    void onAccepted(qintptr descriptor);
    void sweep();
    void removePending(Connection *connection);
    void finished(Connection *connection);
    void pause();
    void maybeResume();

    TransportLimits m_limits;
    std::unique_ptr<Listener> m_listener;
    bool m_tls = false;
    OriginCheck m_originCheck;
    HttpHandler m_httpHandler;
    QList<Connection *> m_pending;           // in accept order: the oldest first
    QHash<QString, int> m_pendingPerAddress;
    int m_open = 0;
    int m_descriptorBudget = 1024;
    bool m_paused = false;
    QTimer m_sweep;
    QTimer m_resume;
    Counters m_counters;
};

} // namespace eventdesk::session
