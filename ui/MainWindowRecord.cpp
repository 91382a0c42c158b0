// File → Record an engine…: the dialog, and the recording it starts (ui/Recordings).
#include "MainWindow.h"

#include "RecordDialog.h"
#include "Recordings.h"

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
    return m_recordings->start(options);
}

const std::vector<std::unique_ptr<EngineRecorder>> &MainWindow::recorders() const { return m_recordings->recorders(); }

} // namespace eventdesk
