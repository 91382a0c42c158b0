// MainWindow's recordings of today's engine: File → Record an engine…, the
// recorders it runs, and what the status bar says of them.
#include "MainWindow.h"

#include "RecordDialog.h"

#include <QLabel>
#include <QTimer>

using namespace Qt::StringLiterals;

namespace eventdesk {

void MainWindow::openRecord()
{
    RecordDialog dialog(this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    startRecording(dialog.options());
}

EngineRecorder *MainWindow::startRecording(const EngineRecorder::Options &options)
{
    auto recorder = std::make_unique<EngineRecorder>(m_deps.store, m_deps.notifier, options);
    EngineRecorder *r = recorder.get();
    connect(r, &EngineRecorder::joined, this, [this, r](const QString &world) {
        // The engine's name for the world, so the log says it instead of its UUID.
        if (m_deps.book && !m_deps.book->isReadOnly() && !world.isEmpty() && m_names.value(r->options().worldId) != world)
            m_deps.book->setDisplayName(u"world"_s, r->options().worldId, world).then(this, [this](const Result<bool> &) {
                refreshNames();
            });
        showMessage(tr("Recording %1: the engine's messages appear in the log as they come").arg(world));
        updateRecordStatus();
    });
    connect(r, &EngineRecorder::disconnected, this, [this](const QString &why) {
        showMessage(tr("The engine's connection is lost (%1): reconnecting, and the gap goes in the log").arg(why));
        updateRecordStatus();
    });
    connect(r, &EngineRecorder::storedUpTo, this, &MainWindow::updateRecordStatus);
    connect(r, &EngineRecorder::errorOccurred, this, &MainWindow::showMessage);
    connect(r, &EngineRecorder::refused, this, [this](const QString &why) { showMessage(tr("Not recording: %1").arg(why)); });
    connect(r, &EngineRecorder::stopped, this, [this, r] {
        // Gone after this turn: its last rows are durable.
        QTimer::singleShot(0, this, [this, r] {
            std::erase_if(m_recorders, [r](const std::unique_ptr<EngineRecorder> &p) { return p.get() == r; });
            updateRecordStatus();
        });
    });
    m_recorders.push_back(std::move(recorder));
    r->start();
    updateRecordStatus();
    return r;
}

void MainWindow::updateRecordStatus()
{
    if (m_stopRecording)
        m_stopRecording->setEnabled(!m_recorders.empty());
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
    m_statusRecord->setText(parts.join(u"  |  "_s));
    m_statusRecord->setVisible(!parts.isEmpty());
}

} // namespace eventdesk
