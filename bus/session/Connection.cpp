// A connection of the session's port: the HTTP request, the WebSocket
// upgrade (RFC 6455) or a plain answer, and the frames both ways.
#include "Transport.h"

#include "BusLog.h"

#include <QDateTime>
#include <QCryptographicHash>
#include <QSslSocket>
#include <QTcpSocket>

#include <cerrno>
#include <cstring>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#endif

using namespace Qt::StringLiterals;

namespace eventdesk::session {

namespace {

enum Opcode : quint8 { Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA };

// Close codes (RFC 6455 §7.4.1).
constexpr int ProtocolError = 1002;
constexpr int InvalidPayload = 1007;
constexpr int TooBig = 1009;

QByteArray frameHeader(quint8 firstByte, quint64 n)
{
    QByteArray h;
    h += char(firstByte);
    if (n < 126) {
        h += char(n);
    } else if (n <= 0xffff) {
        h += char(126);
        h += char(n >> 8);
        h += char(n & 0xff);
    } else {
        h += char(127);
        for (int shift = 56; shift >= 0; shift -= 8)
            h += char((n >> shift) & 0xff);
    }
    return h;
}

// Strict UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF).
bool validUtf8(const QByteArray &bytes)
{
    const auto *s = reinterpret_cast<const unsigned char *>(bytes.constData());
    const qsizetype n = bytes.size();
    for (qsizetype i = 0; i < n;) {
        const unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        int extra = 0;
        char32_t cp = 0, min = 0;
        if ((c & 0xe0) == 0xc0) { extra = 1; cp = c & 0x1f; min = 0x80; }
        else if ((c & 0xf0) == 0xe0) { extra = 2; cp = c & 0x0f; min = 0x800; }
        else if ((c & 0xf8) == 0xf0) { extra = 3; cp = c & 0x07; min = 0x10000; }
        else return false;
        if (i + extra >= n)
            return false;  // cut short
        for (int k = 1; k <= extra; ++k) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += extra + 1;
    }
    return true;
}

// Comma-separated header tokens, compared without case.
bool hasToken(const QByteArray &value, const QByteArray &token)
{
    for (const QByteArray &part : value.split(','))
        if (part.trimmed().compare(token, Qt::CaseInsensitive) == 0)
            return true;
    return false;
}

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

} // namespace


QByteArray textFrame(const QByteArray &utf8)
{
    QByteArray frame = frameHeader(0x80 | Text, quint64(utf8.size()));
    frame += utf8;
    return frame;
}

QByteArray HttpRequest::header(const QByteArray &lowerName) const
{
    for (const auto &[name, value] : headers)
        if (name == lowerName)
            return value;
    return {};
}

Connection::Connection(Transport &transport, QTcpSocket *socket, qint64 acceptedAtMs)
    : m_transport(transport)
    , m_socket(socket)
    , m_address(socket->peerAddress())
    , m_port(socket->peerPort())
    , m_acceptedAtMs(acceptedAtMs)
    , m_plainTcp(qobject_cast<QSslSocket *>(socket) == nullptr)
{
    socket->setParent(this);
    // Qt reads at most this much ahead of us; the kernel's window does the rest.
    socket->setReadBufferSize(256 * 1024);
    connect(socket, &QIODevice::readyRead, this, &Connection::onReadyRead);
    connect(socket, &QIODevice::bytesWritten, this, [this](qint64) { Q_EMIT bytesWritten(); });
    connect(socket, &QAbstractSocket::disconnected, this, &Connection::finish);
    connect(socket, &QAbstractSocket::errorOccurred, this, [this](QAbstractSocket::SocketError e) {
        if (e != QAbstractSocket::RemoteHostClosedError)
            qCDebug(lcSession).noquote() << peer() << "socket error:" << m_socket->errorString();
        if (m_socket->state() == QAbstractSocket::UnconnectedState)
            finish();
    });
    if (auto *ssl = qobject_cast<QSslSocket *>(socket)) {
        connect(ssl, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &) { abort(); });
    }
}

Connection::~Connection() = default;

QString Connection::peer() const
{
    return m_address.protocol() == QAbstractSocket::IPv6Protocol
        ? u"[%1]:%2"_s.arg(m_address.toString()).arg(m_port)
        : u"%1:%2"_s.arg(m_address.toString()).arg(m_port);
}

qint64 Connection::bytesToWrite() const
{
    if (m_state == State::Closed)
        return 0;
    if (m_plainTcp)  // asked for every write of the fan-out: no cast
        return m_socket->bytesToWrite();
    const auto *ssl = static_cast<const QSslSocket *>(m_socket);
    return ssl->bytesToWrite() + ssl->encryptedBytesToWrite();
}

void Connection::write(const QByteArray &frames)
{
    if (m_state == State::Open)
        send(frames);
}

// Plain TCP with nothing waiting in Qt's buffer: the bytes go to the kernel
// now, in one system call. Through QTcpSocket each write costs a copy into its
// buffer, a write notifier switched on and off again, and a turn of the event
// loop that polls every socket of the session before the write happens; with
// a thousand players that was a fifth of the server's time. What the kernel
// does not take (its send buffer is full: a slow reader), and any error, goes
// through Qt's buffered path, which keeps the order, reports the error and
// emits bytesWritten as it drains. TLS always takes Qt's path.
void Connection::send(QByteArrayView bytes)
{
    qsizetype done = 0;
#ifdef Q_OS_UNIX
    const qintptr fd = m_plainTcp && m_socket->bytesToWrite() == 0 ? m_socket->socketDescriptor() : -1;
    while (fd >= 0 && done < bytes.size()) {
        const ssize_t w = ::send(int(fd), bytes.data() + done, size_t(bytes.size() - done), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0)
            done += w;
        else if (!(w < 0 && errno == EINTR))
            break;  // EAGAIN, or an error Qt will find and report on its own write
    }
#endif
    if (done < bytes.size())
        m_socket->write(bytes.data() + done, bytes.size() - done);
}

void Connection::ping()
{
    if (m_state == State::Open)
        writeControl(Ping, {});
}

void Connection::writeControl(quint8 opcode, const QByteArray &payload)
{
    QByteArray frame = frameHeader(0x80 | opcode, quint64(payload.size()));
    frame += payload;
    send(frame);
}

void Connection::close(int code, const QString &reason)
{
    if (m_state == State::Request) {
        m_state = State::Closing;
        m_socket->disconnectFromHost();
        return;
    }
    if (m_state != State::Open)
        return;
    QByteArray payload;
    payload += char((code >> 8) & 0xff);
    payload += char(code & 0xff);
    payload += reason.toUtf8().left(120);
    writeControl(Close, payload);
    m_closeSent = true;
    m_state = State::Closing;
    // The peer answers with its own close frame (then we end the TCP
    // connection); one that does not is cut off after the grace period.
    QTimer::singleShot(m_transport.limits().closeGraceMs, this, [this] {
        if (m_state == State::Closing)
            abort();
    });
}

void Connection::abort()
{
    if (m_state == State::Closed)
        return;
    m_socket->abort();
    finish();
}

void Connection::finish()
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_in.clear();
    m_message.clear();
    m_transport.finished(this);
    // Listeners hear of it from the event loop, never inside their own call.
    QMetaObject::invokeMethod(this, [this] {
        Q_EMIT disconnected();
        deleteLater();
    }, Qt::QueuedConnection);
}

void Connection::failProtocol(int code, const QString &why)
{
    if (m_state != State::Open) {  // already closing: the rest is dropped
        m_in.clear();
        return;
    }
    ++m_transport.m_counters.protocolErrors;
    qCInfo(lcSession).noquote() << peer() << "closed:" << why;
    m_in.clear();
    m_message.clear();
    close(code, why);
}

void Connection::onReadyRead()
{
    if (m_state == State::Closed)
        return;
    if (m_state == State::Closing) {
        // Only the peer's close frame matters now; the rest is read and dropped.
        if (!m_closeSent) {
            m_socket->readAll();
            return;
        }
    }
    m_in += m_socket->readAll();
    if (m_state == State::Request)
        readRequest();
    if (m_state == State::Open || (m_state == State::Closing && m_closeSent))
        readFrames();
}

void Connection::readRequest()
{
    // The head ends at its first empty line. Lines end in CRLF, but a bare LF
    // is taken as one too (RFC 9112 2.2 allows it; netcat and hand-typed
    // requests send it), instead of waiting for a CRLF that never comes.
    qsizetype end = -1, separator = 0;
    for (const auto &[mark, length] : {std::pair<const char *, qsizetype>{"\r\n\r\n", 4}, {"\n\n", 2}, {"\n\r\n", 3}}) {
        const qsizetype at = m_in.indexOf(mark);
        if (at >= 0 && (end < 0 || at < end)) {
            end = at;
            separator = length;
        }
    }
    const int limit = m_transport.limits().maxRequestBytes;
    if (end < 0) {
        if (m_in.size() > limit) {
            ++m_transport.m_counters.badRequests;
            answerHttp({431, "text/plain; charset=utf-8", "request header too large\n", {}});
        }
        return;
    }
    if (end > limit) {
        ++m_transport.m_counters.badRequests;
        answerHttp({431, "text/plain; charset=utf-8", "request header too large\n", {}});
        return;
    }
    const QByteArray head = m_in.left(end);
    m_in.remove(0, end + separator);
    const QList<QByteArray> lines = head.split('\n');
    const QList<QByteArray> requestLine = lines.first().trimmed().split(' ');
    HttpRequest request;
    if (requestLine.size() != 3 || !requestLine[2].startsWith("HTTP/1.")) {
        ++m_transport.m_counters.badRequests;
        answerHttp({400, "text/plain; charset=utf-8", "bad request\n", {}});
        return;
    }
    request.method = requestLine[0];
    request.target = requestLine[1];
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0) {
            ++m_transport.m_counters.badRequests;
            answerHttp({400, "text/plain; charset=utf-8", "bad request\n", {}});
            return;
        }
        request.headers.append({line.left(colon).trimmed().toLower(), line.mid(colon + 1).trimmed()});
    }
    m_target = request.target;
    m_origin = request.header("origin");
    if (hasToken(request.header("upgrade"), "websocket")) {
        upgrade(request);
        return;
    }
    if (request.method != "GET" && request.method != "HEAD") {
        answerHttp({405, "text/plain; charset=utf-8", "only GET here\n", {{"Allow", "GET, HEAD"}}});
        return;
    }
    HttpResponse response = m_transport.m_httpHandler ? m_transport.m_httpHandler(request)
                                                      : HttpResponse{404, "text/plain; charset=utf-8", "not found\n", {}};
    if (request.method == "HEAD")
        response.headOnly = true;
    answerHttp(response);
}

void Connection::upgrade(const HttpRequest &request)
{
    const QByteArray key = request.header("sec-websocket-key");
    if (request.method != "GET" || !hasToken(request.header("connection"), "upgrade")
        || QByteArray::fromBase64(key).size() != 16) {
        ++m_transport.m_counters.badRequests;
        answerHttp({400, "text/plain; charset=utf-8", "not a valid WebSocket upgrade\n", {}});
        return;
    }
    if (request.header("sec-websocket-version") != "13") {
        ++m_transport.m_counters.badRequests;
        answerHttp({426, "text/plain; charset=utf-8", "WebSocket version 13 only\n", {{"Sec-WebSocket-Version", "13"}}});
        return;
    }
    if (m_transport.m_originCheck
        && !m_transport.m_originCheck(QString::fromUtf8(m_origin), QString::fromUtf8(request.header("host")))) {
        ++m_transport.m_counters.badRequests;
        Q_EMIT m_transport.refused(m_address.toString(), u"origin %1 not allowed"_s.arg(QString::fromUtf8(m_origin.left(100))));
        answerHttp({403, "text/plain; charset=utf-8", "origin not allowed\n", {}});
        return;
    }
    const QByteArray accept = QCryptographicHash::hash(QByteArray(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
                                                       QCryptographicHash::Sha1).toBase64();
    m_socket->write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: " + accept + "\r\n\r\n");
    m_state = State::Open;
    Q_EMIT m_transport.connectionOpened(this);
}

void Connection::answerHttp(const HttpResponse &response)
{
    QByteArray out = "HTTP/1.1 " + QByteArray::number(response.status) + ' ' + reasonPhrase(response.status) + "\r\n";
    out += "Content-Type: " + response.contentType + "\r\n";
    out += "Content-Length: " + QByteArray::number(response.body.size()) + "\r\n";
    out += "Connection: close\r\nX-Content-Type-Options: nosniff\r\n";
    if (!response.cacheable)
        out += "Cache-Control: no-store\r\n";
    for (const auto &[name, value] : response.headers)
        out += name + ": " + value + "\r\n";
    out += "\r\n";
    m_socket->write(out);
    if (!response.headOnly)
        m_socket->write(response.body);
    m_in.clear();
    m_state = State::Closing;
    m_socket->disconnectFromHost();
    QTimer::singleShot(m_transport.limits().closeGraceMs * 5, this, [this] { abort(); });
}

void Connection::readFrames()
{
    const qint64 maxBytes = m_transport.limits().maxMessageBytes;
    while (m_state == State::Open || (m_state == State::Closing && m_closeSent)) {
        if (m_in.size() < 2)
            return;
        const auto *p = reinterpret_cast<const uchar *>(m_in.constData());
        const bool fin = p[0] & 0x80;
        const int opcode = p[0] & 0x0f;
        const bool masked = p[1] & 0x80;
        quint64 length = p[1] & 0x7f;
        qsizetype at = 2;
        if (p[0] & 0x70)
            return failProtocol(ProtocolError, u"reserved bits set"_s);
        if (!masked)
            return failProtocol(ProtocolError, u"unmasked client frame"_s);
        const bool control = opcode & 0x8;
        if (control && (!fin || length > 125))
            return failProtocol(ProtocolError, u"malformed control frame"_s);
        if (length == 126) {
            if (m_in.size() < 4)
                return;
            length = (quint64(p[2]) << 8) | p[3];
            at = 4;
        } else if (length == 127) {
            if (m_in.size() < 10)
                return;
            length = 0;
            for (int k = 0; k < 8; ++k)
                length = (length << 8) | p[2 + k];
            at = 10;
        }
        if (!control && length + quint64(m_message.size()) > quint64(maxBytes))
            return failProtocol(TooBig, u"message over %1 bytes"_s.arg(maxBytes));
        if (quint64(m_in.size()) < quint64(at) + 4 + length)
            return;
        uchar mask[4];
        std::memcpy(mask, p + at, 4);
        at += 4;
        QByteArray payload = m_in.mid(at, qsizetype(length));
        m_in.remove(0, at + qsizetype(length));
        for (qsizetype i = 0; i < payload.size(); ++i)
            payload[i] = char(uchar(payload[i]) ^ mask[i % 4]);

        switch (opcode) {
        case Ping:
            if (m_state == State::Open)
                writeControl(Pong, payload);
            break;
        case Pong:
            Q_EMIT pongReceived();
            break;
        case Close:
            if (m_closeSent) {
                // Our close was answered: we end the TCP connection (RFC 6455 §7.1.1).
                m_socket->disconnectFromHost();
                m_state = State::Closing;
                m_closeSent = false;
                return;
            } else {
                // The peer closes: answer with its code, then end the connection.
                QByteArray echo = payload.left(2);
                writeControl(Close, echo);
                m_state = State::Closing;
                m_socket->disconnectFromHost();
                return;
            }
        case Text:
        case Binary:
        case Continuation:
            if (m_state != State::Open)
                break;  // closing: data is dropped
            if (opcode == Continuation && m_messageOpcode == 0)
                return failProtocol(ProtocolError, u"continuation without a message"_s);
            if (opcode != Continuation && m_messageOpcode != 0)
                return failProtocol(ProtocolError, u"new message inside a fragmented one"_s);
            if (opcode != Continuation)
                m_messageOpcode = opcode;
            m_message += payload;
            if (fin) {
                const int kind = std::exchange(m_messageOpcode, 0);
                QByteArray message = std::exchange(m_message, {});
                if (kind == Text) {
                    if (!validUtf8(message))
                        return failProtocol(InvalidPayload, u"text that is not UTF-8"_s);
                    Q_EMIT textReceived(message);
                } else {
                    Q_EMIT binaryReceived();
                }
            }
            break;
        default:
            return failProtocol(ProtocolError, u"unknown opcode %1"_s.arg(opcode));
        }
    }
}

} // namespace eventdesk::session
