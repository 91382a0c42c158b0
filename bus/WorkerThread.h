// A QThread with one QObject living in it, and runOn(): call a function on that
// object's thread and get its result as a QFuture. The bus's SQLite work runs
// this way so that the GUI thread never waits on the database.
#pragma once

#include <QFuture>
#include <QObject>
#include <QPromise>
#include <QThread>

#include <memory>

namespace eventdesk {

template <typename T, typename F>
QFuture<T> runOn(QObject *context, F &&fn)
{
    auto promise = std::make_shared<QPromise<T>>();
    QFuture<T> future = promise->future();
    promise->start();
    QMetaObject::invokeMethod(
        context,
        [promise, fn = std::forward<F>(fn)]() mutable {
            promise->addResult(fn());
            promise->finish();
        },
        Qt::QueuedConnection);
    return future;
}

// Starts a thread, creates T in it (constructed there, so that its timers and
// database connections belong to it) and tears both down in order.
template <typename T>
class WorkerThread
{
    Q_DISABLE_COPY_MOVE(WorkerThread)
public:
    explicit WorkerThread(const QString &name)
    {
        m_thread.setObjectName(name);
        m_anchor.moveToThread(&m_thread);
        m_thread.start();
    }
    ~WorkerThread() { stop(); }

    template <typename... Args>
    T *create(Args &&...args)
    {
        T *made = nullptr;
        QMetaObject::invokeMethod(
            &m_anchor, [&] { made = new T(std::forward<Args>(args)...); }, Qt::BlockingQueuedConnection);
        m_object = made;
        return made;
    }

    T *object() const { return m_object; }

    // Deletes the object in its own thread after the work already queued, then ends the thread.
    void stop()
    {
        if (!m_thread.isRunning())
            return;
        if (T *obj = std::exchange(m_object, nullptr))
            QMetaObject::invokeMethod(&m_anchor, [obj] { delete obj; }, Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }

private:
    QThread m_thread;
    QObject m_anchor;  // lives in m_thread: queued calls to it run there
    T *m_object = nullptr;
};

} // namespace eventdesk
