// Message atoms of the remex actors (CAF 0.17: at most 10 characters).
#pragma once

#include <caf/atom.hpp>

namespace remex::actors {

using exec_atom = caf::atom_constant<caf::atom("exec")>;
using chunk_atom = caf::atom_constant<caf::atom("chunk")>;
using eof_atom = caf::atom_constant<caf::atom("eof")>;
using credit_atom = caf::atom_constant<caf::atom("credit")>;
using signal_atom = caf::atom_constant<caf::atom("signal")>;
using attach_atom = caf::atom_constant<caf::atom("attach")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
using exited_atom = caf::atom_constant<caf::atom("exited")>;
using drained_atom = caf::atom_constant<caf::atom("drained")>;
using open_atom = caf::atom_constant<caf::atom("open")>;
using list_atom = caf::atom_constant<caf::atom("list")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using log_atom = caf::atom_constant<caf::atom("log")>;
using placed_atom = caf::atom_constant<caf::atom("placed")>;
using checked_atom = caf::atom_constant<caf::atom("checked")>;
using opened_atom = caf::atom_constant<caf::atom("opened")>;
using files_atom = caf::atom_constant<caf::atom("files")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using file_atom = caf::atom_constant<caf::atom("file")>;
using paths_atom = caf::atom_constant<caf::atom("paths")>;
using close_atom = caf::atom_constant<caf::atom("close")>;
using answer_atom = caf::atom_constant<caf::atom("answer")>;
using notice_atom = caf::atom_constant<caf::atom("notice")>;
using settings_atom = caf::atom_constant<caf::atom("settings")>;
using groups_atom = caf::atom_constant<caf::atom("groups")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;
using peer_atom = caf::atom_constant<caf::atom("peer")>;
using routes_atom = caf::atom_constant<caf::atom("routes")>;
using console_atom = caf::atom_constant<caf::atom("console")>;
using dial_atom = caf::atom_constant<caf::atom("dial")>;
using event_atom = caf::atom_constant<caf::atom("event")>;
using watch_atom = caf::atom_constant<caf::atom("watch")>;
using relayed_atom = caf::atom_constant<caf::atom("relayed")>;
using delivered_atom = caf::atom_constant<caf::atom("delivered")>;

}  // namespace remex::actors
