#include "FileWatch.h"

#include "BusLog.h"

#include <QSocketNotifier>

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace eventdesk {

namespace {

constexpr uint32_t LifeEvents = IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF;
constexpr uint32_t WriteEvents = IN_MODIFY | IN_CLOSE_WRITE;

} // namespace

FileWatch::FileWatch(std::function<void()> onChange, int quietMs, QObject *parent)
    : QObject(parent)
    , m_onChange(std::move(onChange))
    , m_fd(inotify_init1(IN_NONBLOCK | IN_CLOEXEC))
{
    if (m_fd < 0) {
        qCWarning(lcStore) << "cannot watch files for changes:" << std::strerror(errno) << "- the poll alone follows the file";
        return;
    }
    m_notifier = new QSocketNotifier(qintptr(m_fd), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &FileWatch::readEvents);
    m_quiet.setSingleShot(true);
    m_quiet.setTimerType(Qt::PreciseTimer);
    m_quiet.setInterval(quietMs);
    connect(&m_quiet, &QTimer::timeout, this, [this] { m_notifier->setEnabled(true); });
}

FileWatch::~FileWatch()
{
    if (m_notifier)
        m_notifier->setEnabled(false);
    if (m_fd >= 0)
        ::close(m_fd);
}

bool FileWatch::watch(const QByteArray &path)
{
    if (m_fd < 0 || path.isEmpty() || path.contains('\0'))
        return false;  // a NUL would cut the path short: another file
    if (isWatching(path))
        return true;
    const int wd = inotify_add_watch(m_fd, path.constData(), m_writes ? LifeEvents | WriteEvents : LifeEvents);
    if (wd < 0)
        return false;  // not there (yet): the caller looks again later
    m_paths.insert(wd, path);
    return true;
}

void FileWatch::setWrites(bool on)
{
    if (on == m_writes)
        return;
    m_writes = on;
    const QList<QByteArray> paths = m_paths.values();
    m_paths.clear();
    for (const QByteArray &path : paths)
        watch(path);  // the same descriptor, its mask replaced
}

bool FileWatch::isWatching(const QByteArray &path) const
{
    for (const QByteArray &p : m_paths)
        if (p == path)
            return true;
    return false;
}

void FileWatch::readEvents()
{
    alignas(inotify_event) char buffer[4096];
    bool changed = false;
    for (;;) {
        const ssize_t n = ::read(m_fd, buffer, sizeof buffer);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            break;  // EAGAIN: all read
        }
        for (ssize_t at = 0; at + ssize_t(sizeof(inotify_event)) <= n;) {
            const auto *e = reinterpret_cast<const inotify_event *>(buffer + at);
            if (e->mask & IN_IGNORED)
                m_paths.remove(e->wd);  // deleted or moved away
            changed = true;
            at += ssize_t(sizeof(inotify_event)) + ssize_t(e->len);
        }
    }
    if (!changed)
        return;
    // Quiet for a moment: writes meanwhile fold into one event, read at the end.
    m_notifier->setEnabled(false);
    m_quiet.start();
    m_onChange();
}

} // namespace eventdesk
