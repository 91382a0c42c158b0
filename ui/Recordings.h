// The window's recordings of today's engine (File → Record an engine…): the
// recorders it runs, the status bar's word on each (world, messages, the last
// gap), and their end with what they received made durable.
#pragma once

#include "EngineRecorder.h"

#include <QObject>

#include <memory>
#include <vector>

class QAction;
class QLabel;

namespace eventdesk {

class Recordings final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Recordings)
public:
    // status: the status bar's label; stop: the menu's Stop recording (enabled while one runs).
    Recordings(EventStore &store, Notifier &notifier, QLabel *status, QObject *parent = nullptr);
    ~Recordings() override;

    void setStopAction(QAction *stop);
    EngineRecorder *start(const EngineRecorder::Options &options);
    void stopAll();
    // Stops every recording and waits until what each received is durable (at most timeoutMs).
    void finish(int timeoutMs);
    const std::vector<std::unique_ptr<EngineRecorder>> &recorders() const { return m_recorders; }

Q_SIGNALS:
    void message(const QString &text);
    // The engine named the recorded world so (for its display name).
    void worldNamed(const QString &worldId, const QString &name);

private:
    void updateStatus();

    EventStore &m_store;
    Notifier &m_notifier;
    QLabel *m_status;
    QAction *m_stop = nullptr;
    std::vector<std::unique_ptr<EngineRecorder>> m_recorders;
};

} // namespace eventdesk
