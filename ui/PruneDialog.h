// Prune from the window: archive, then delete, the events older than a cutoff,
// with a preview of how many go and how many stay before anything happens.
#pragma once

#include "DeskPorts.h"

#include <QDialog>

class QCheckBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace eventdesk {

class PruneDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PruneDialog)
public:
    explicit PruneDialog(Retention &retention, QWidget *parent = nullptr);

    QSpinBox *days() const { return m_days; }
    QCheckBox *force() const { return m_force; }
    QLabel *preview() const { return m_preview; }
    QPushButton *pruneButton() const { return m_prune; }
    QProgressBar *progressBar() const { return m_progress; }
    QPushButton *cancelButton() const { return m_cancel; }
    bool isPruning() const { return m_running; }
    // What the preview said: rows that would go (−1 while counting).
    qint64 previewCount() const { return m_wouldGo; }
    // Archives and deletes (what the button does after the DM confirms).
    void pruneNow();
    // While pruning, Cancel (and Esc) stop it while the archive is written:
    // nothing is deleted and no archive is kept. Once the archive is whole, the
    // deletion finishes and Cancel is off.
    void reject() override;

Q_SIGNALS:
    void pruned(const eventdesk::PruneReport &report);

private:
    PruneOptions options(bool dryRun) const;
    QFuture<Result<PruneReport>> run(const PruneOptions &options);
    void start(const PruneOptions &options);
    void refreshPreview();

    Retention &m_retention;
    QSpinBox *m_days;
    QCheckBox *m_force;
    QLabel *m_preview;
    QPushButton *m_prune;
    QPushButton *m_cancel;
    QProgressBar *m_progress;
    std::shared_ptr<std::atomic<bool>> m_cancelFlag;
    bool m_running = false;
    qint64 m_wouldGo = -1;
    int m_generation = 0;
};

} // namespace eventdesk
