#include "Recordings.h"

#include <QAction>
#include <QEventLoop>
#include <QLabel>
#include <QTimer>

using namespace Qt::StringLiterals;

namespace eventdesk {

Recordings::Recordings(EventStore &store, Notifier &notifier, QLabel *status, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_notifier(notifier)
    , m_status(status)
{
    m_status->setAccessibleName(tr("Recording"));
    m_status->hide();
}

Recordings::~Recordings() = default;

void Recordings::setStopAction(QAction *stop)
{
    m_stop = stop;
    connect(stop, &QAction::triggered, this, &Recordings::stopAll);
    updateStatus();
}

EngineRecorder *Recordings::start(const EngineRecorder::Options &options)
{
    auto recorder = std::make_unique<EngineRecorder>(m_store, m_notifier, options);
    EngineRecorder *r = recorder.get();
    connect(r, &EngineRecorder::joined, this, [this, r](const QString &world) {
        if (!world.isEmpty())
            Q_EMIT worldNamed(r->options().worldId, world);
        Q_EMIT message(tr("Recording %1: the engine's messages appear in the log as they come").arg(world));
        updateStatus();
    });
    connect(r, &EngineRecorder::disconnected, this, [this](const QString &why) {
        Q_EMIT message(tr("The engine's connection is lost (%1): reconnecting, and the gap goes in the log").arg(why));
        updateStatus();
    });
    connect(r, &EngineRecorder::storedUpTo, this, &Recordings::updateStatus);
    connect(r, &EngineRecorder::errorOccurred, this, &Recordings::message);
    connect(r, &EngineRecorder::refused, this, [this](const QString &why) { Q_EMIT message(tr("Not recording: %1").arg(why)); });
    connect(r, &EngineRecorder::stopped, this, [this, r] {
        // Gone after this turn: its last rows are durable.
        QTimer::singleShot(0, this, [this, r] {
            std::erase_if(m_recorders, [r](const std::unique_ptr<EngineRecorder> &p) { return p.get() == r; });
            updateStatus();
        });
    });
    m_recorders.push_back(std::move(recorder));
    r->start();
    updateStatus();
    return r;
}

void Recordings::stopAll()
{
    for (const auto &r : m_recorders)
        r->stop();
}

void Recordings::finish(int timeoutMs)
{
    if (m_recorders.empty())
        return;
    QEventLoop drain;
    int left = int(m_recorders.size());
    for (const auto &r : m_recorders) {
        connect(r.get(), &EngineRecorder::stopped, &drain, [&drain, &left] {
            if (--left == 0)
                drain.quit();
        });
        r->stop();
    }
    QTimer::singleShot(timeoutMs, &drain, &QEventLoop::quit);
    if (left > 0)
        drain.exec();
}

void Recordings::updateStatus()
{
    if (m_stop)
        m_stop->setEnabled(!m_recorders.empty());
    QStringList parts;
    for (const auto &r : m_recorders) {
        const EngineRecorder::Stats s = r->stats();
        QString text = tr("Recording %1 · %L2 messages").arg(s.worldName.isEmpty() ? r->options().worldId.left(8) : s.worldName)
                           .arg(s.stored);
        if (!s.connected)
            text += tr(" · not connected");
        if (s.lastGapFrom.isValid())
            text += tr(" · last gap %1–%2").arg(s.lastGapFrom.toLocalTime().toString(u"HH:mm:ss"_s),
                                                 s.lastGapTo.toLocalTime().toString(u"HH:mm:ss"_s));
        parts.append(text);
    }
    m_status->setText(parts.join(u"  |  "_s));
    m_status->setVisible(!parts.isEmpty());
}

} // namespace eventdesk
