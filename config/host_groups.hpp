// Host groups: names for host lists, so that "remex fanout -g web" means
// "web[01-20]". A group's value has the syntax of a host list (comma lists,
// pdsh ranges, see host_list.hpp), and an item "@name" in it stands for the
// hosts of another group. Groups are defined in one place per broker: the
// [groups] section of remexd's config file (daemon_settings::groups), or,
// for the CLI's embedded broker, of the user's hosts file:
//
//   [groups]
//   web = "web[01-20]"
//   db = "db[1-3,7],dbx"
//   all = "@web,@db"
#pragma once

#include <caf/config_value.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/ini_file.hpp"

namespace remex::config {

// name → host-list expression, as written.
using host_groups = std::map<std::string, std::string>;

// A group name is what an INI key may be: a letter, digit or '_', then
// letters, digits, '_' and '-'.
bool is_group_name(std::string_view name);

// Checks the syntax of a host list whose items may be "@name", without
// knowing the groups: "" when fine, else one line.
std::string check_host_list(const std::string& text);

// Checks one definition on its own (the name, a text value, the host-list
// syntax of every item, the names of the groups it refers to) and adds it to
// groups. "" when added, else what is wrong, e.g. "expected text in double
// quotes like \"web[01-20]\", got 3". Whether the groups it refers to exist
// is for check_host_groups, once all are in.
std::string add_host_group(host_groups& groups, const std::string& name,
                           const caf::config_value& value);

// Expands a host list whose items may be "@name" (that group's hosts, and
// theirs in turn): in the order written, each host once. On an unknown
// group, a group that includes itself, or bad syntax: {} and error set to
// one line ("unknown group 'web'", "group 'a' includes itself: a -> b -> a").
std::vector<std::string> expand_host_list(const std::string& text,
                                          const host_groups& groups,
                                          std::string& error);

// The hosts of the group name (as expand_host_list("@name")).
std::vector<std::string> expand_group(const host_groups& groups,
                                      const std::string& name,
                                      std::string& error);

// Patterns (remexd's serves) in which an item "@name" stands for the hosts
// of that group, each then a pattern that matches only itself; other items
// are kept as written. {} and error set when a group is unknown.
std::vector<std::string> expand_group_patterns(
    const std::vector<std::string>& patterns, const host_groups& groups,
    std::string& error);

// Whether every group expands: the name of the first that does not (in the
// order of names, unless order gives another) and why; {} when all do.
std::optional<std::pair<std::string, std::string>> check_host_groups(
    const host_groups& groups, const std::vector<std::string>& order = {});

// The [groups] section of an INI text, the only section allowed there: the
// user's hosts file. nullopt and the problem (with its line) when the text
// is malformed or a group is wrong; keys are named "groups.NAME" in it.
std::optional<host_groups> parse_hosts_file(std::string_view text,
                                            ini_problem& problem);

// The user's hosts file: $REMEX_HOSTS_FILE, else
// $XDG_CONFIG_HOME/remex/hosts.ini (an absolute XDG_CONFIG_HOME only), else
// ~/.config/remex/hosts.ini.
std::string default_hosts_file();

// Reads the hosts file at path. found is false (and the groups empty) when
// there is no such file. On any other problem: nullopt and error set to one
// line "PATH[:LINE]: what".
std::optional<host_groups> read_hosts_file(const std::string& path, bool& found,
                                           std::string& error);

}  // namespace remex::config
