// emit_log_hook that keeps encrypted columns' plaintext out of the details
// of integrity-constraint errors and out of COPY FROM's error context (see
// src/pg/hooks/log_redaction.cpp).
#pragma once

namespace colcrypt::pg {

void install_log_redaction_hook();

}  // namespace colcrypt::pg
