#include "Transport.h"

#include "BusLog.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QSslCertificate>
#include <QSslKey>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>

#include <cstring>

#include <sys/resource.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace eventdesk::session {

namespace {

qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

int countOpenDescriptors()
{
    const int n = int(QDir(u"/proc/self/fd"_s).entryList(QDir::Files | QDir::System | QDir::NoDotAndDotDot).size());
    return n > 0 ? n : 32;
}

} // namespace

// ---------------------------------------------------------------- Listener

// Our own accept: no queue of pending sockets inside QTcpServer, Nagle off,
// TLS started at once, and the descriptor handed to the transport's budget.
class Transport::Listener final : public QTcpServer
{
public:
    Listener(Transport &transport, QSslCertificate cert, QSslKey key)
        : m_transport(transport)
        , m_cert(std::move(cert))
        , m_key(std::move(key))
    {
    }
    bool tls() const { return !m_cert.isNull(); }

    QTcpSocket *adopt(qintptr descriptor)
    {
        QTcpSocket *socket = nullptr;
        if (tls()) {
            auto *ssl = new QSslSocket;
            ssl->setLocalCertificate(m_cert);
            ssl->setPrivateKey(m_key);
            socket = ssl;
        } else {
            socket = new QTcpSocket;
        }
        if (!socket->setSocketDescriptor(descriptor)) {
            delete socket;
            ::close(int(descriptor));
            return nullptr;
        }
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        if (auto *ssl = qobject_cast<QSslSocket *>(socket))
            ssl->startServerEncryption();
        return socket;
    }

protected:
    void incomingConnection(qintptr descriptor) override { m_transport.onAccepted(descriptor); }

private:
    Transport &m_transport;
    QSslCertificate m_cert;
    QSslKey m_key;
};

// ---------------------------------------------------------------- Transport

Transport::Transport(TransportLimits limits, QObject *parent)
    : QObject(parent)
    , m_limits(limits)
{
    m_sweep.setInterval(250);
    connect(&m_sweep, &QTimer::timeout, this, &Transport::sweep);
    m_resume.setInterval(500);
    connect(&m_resume, &QTimer::timeout, this, &Transport::maybeResume);
}

Transport::~Transport()
{
    close();
}

qint64 Transport::raiseDescriptorLimit()
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return 1024;
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            limit = raised;
    }
    return limit.rlim_cur == RLIM_INFINITY ? (1 << 20) : qint64(limit.rlim_cur);
}

Result<bool> Transport::listen(const QHostAddress &address, quint16 port, const QString &tlsCertificate,
                               const QString &tlsKey)
{
    if (isListening())
        return true;
    QSslCertificate cert;
    QSslKey key;
    if (!tlsCertificate.isEmpty() || !tlsKey.isEmpty()) {
        QFile certFile(tlsCertificate), keyFile(tlsKey);
        if (!certFile.open(QIODevice::ReadOnly))
            return Error{ErrorCode::Usage, {}, u"cannot read the TLS certificate %1"_s.arg(tlsCertificate)};
        if (!keyFile.open(QIODevice::ReadOnly))
            return Error{ErrorCode::Usage, {}, u"cannot read the TLS key %1"_s.arg(tlsKey)};
        cert = QSslCertificate(&certFile, QSsl::Pem);
        key = QSslKey(&keyFile, QSsl::Rsa, QSsl::Pem);
        if (key.isNull()) {
            keyFile.seek(0);
            key = QSslKey(&keyFile, QSsl::Ec, QSsl::Pem);
        }
        if (cert.isNull() || key.isNull())
            return Error{ErrorCode::Usage, {}, u"the TLS certificate or key is not valid PEM"_s};
    }
    m_listener = std::make_unique<Listener>(*this, cert, key);
    m_tls = m_listener->tls();
    connect(m_listener.get(), &QTcpServer::acceptError, this, [this](QAbstractSocket::SocketError) {
        // Out of descriptors (EMFILE) or memory: Qt has paused the port; we try again later.
        qCWarning(lcSession).noquote() << "cannot accept:" << m_listener->errorString() << "- pausing";
        pause();
    });
    if (!m_listener->listen(address, port)) {
        const QString why = m_listener->errorString();
        m_listener.reset();
        return Error{ErrorCode::Unavailable, {}, u"cannot listen on %1:%2: %3"_s.arg(address.toString()).arg(port).arg(why)};
    }
    const qint64 soft = raiseDescriptorLimit();
    m_descriptorBudget = int(std::max<qint64>(8, soft - countOpenDescriptors() - m_limits.descriptorReserve));
    m_paused = false;
    return true;
}

void Transport::close()
{
    m_sweep.stop();
    m_resume.stop();
    if (m_listener)
        m_listener->close();
    m_listener.reset();
    const QList<Connection *> all = findChildren<Connection *>(Qt::FindDirectChildrenOnly);
    for (Connection *c : all) {
        c->m_socket->flush();  // what fits now (a close frame the session just sent) still goes out
        c->abort();
    }
    m_pending.clear();
    m_pendingPerAddress.clear();
}

bool Transport::isListening() const { return m_listener && m_listener->isListening(); }
quint16 Transport::port() const { return m_listener ? m_listener->serverPort() : 0; }

void Transport::onAccepted(qintptr descriptor)
{
    QTcpSocket *socket = m_listener->adopt(descriptor);
    if (!socket)
        return;
    ++m_counters.accepted;
    ++m_open;
    auto *c = new Connection(*this, socket, nowMs());
    c->setParent(this);
    const QString address = c->peerAddress().toString();
    if (m_pendingPerAddress.value(address) >= m_limits.maxPendingPerAddress) {
        ++m_counters.refusedPerAddress;
        Q_EMIT refused(address, u"over %1 connections waiting to join from this address"_s.arg(m_limits.maxPendingPerAddress));
        c->abort();
    } else {
        if (m_pending.size() >= m_limits.maxPending) {
            // The oldest waiting connection of the address with the most waiting
            // makes room: a flood from a few addresses pushes out its own
            // sockets, not the player who connected a moment ago.
            Connection *oldest = nullptr;
            int most = 0;
            for (Connection *p : std::as_const(m_pending)) {
                const int n = m_pendingPerAddress.value(p->peerAddress().toString());
                if (n > most) {
                    most = n;
                    oldest = p;
                }
            }
            ++m_counters.evicted;
            Q_EMIT refused(oldest->peerAddress().toString(), u"waited longest without joining while the session was busy"_s);
            oldest->abort();
        }
        m_pending.append(c);
        ++m_pendingPerAddress[address];
        if (!m_sweep.isActive())
            m_sweep.start();
    }
    if (m_open >= m_descriptorBudget)
        pause();
}

void Transport::admit(Connection *connection)
{
    if (!connection || connection->m_admitted)
        return;
    connection->m_admitted = true;
    removePending(connection);
}

void Transport::removePending(Connection *connection)
{
    if (!m_pending.removeOne(connection))
        return;
    const QString address = connection->peerAddress().toString();
    if (--m_pendingPerAddress[address] <= 0)
        m_pendingPerAddress.remove(address);
    if (m_pending.isEmpty())
        m_sweep.stop();
}

void Transport::finished(Connection *connection)
{
    removePending(connection);
    --m_open;
    if (m_paused)
        maybeResume();
}

// Connections still in their HTTP request (or TLS handshake) past the deadline.
void Transport::sweep()
{
    const qint64 cutoff = nowMs() - m_limits.handshakeTimeoutMs;
    const QList<Connection *> pending = m_pending;
    for (Connection *c : pending) {
        if (c->m_acceptedAtMs > cutoff)
            break;  // accept order: the rest are younger
        if (c->state() == Connection::State::Request) {
            ++m_counters.handshakeTimeouts;
            Q_EMIT refused(c->peerAddress().toString(), u"no WebSocket handshake within %1 s"_s.arg(m_limits.handshakeTimeoutMs / 1000.0));
            c->abort();
        }
    }
}

void Transport::pause()
{
    if (!m_listener)
        return;
    if (!m_paused) {
        ++m_counters.acceptPauses;
        qCWarning(lcSession).noquote() << m_open << "connections open, near the descriptor limit: not accepting for now";
    }
    m_paused = true;
    m_listener->pauseAccepting();
    m_resume.start();
}

void Transport::maybeResume()
{
    if (!m_paused || !m_listener)
        return;
    if (m_open >= m_descriptorBudget - std::max(4, m_descriptorBudget / 16))
        return;
    m_paused = false;
    m_resume.stop();
    m_listener->resumeAccepting();
    qCInfo(lcSession).noquote() << "accepting connections again";
}

} // namespace eventdesk::session
