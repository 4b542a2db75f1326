//! The schema of ibek-support build definitions (`<module>/<module>.install.yml`).
//!
//! An install file is an Ansible vars file read by ibek-support's `support`
//! role (`_ansible/roles/support`): it sets the variables that role's tasks
//! use to clone, patch, build and register one support module. The variables
//! and their defaults come from `_ansible/roles/support/vars/main.yml`; how
//! each is used comes from the role's tasks, and is said in its description.
//! ibek has no schema for these files; this one is iocforge's own.
//!
//! Conditions (`when`) are booleans or Jinja strings such as
//! `"{{ is_rtems }}"`. A bare expression (`when: is_linux`) is refused:
//! Ansible passes it on as a plain non-empty string, which some tasks treat
//! as true and others (through `| bool`) as false.

use super::json::Json;

fn s(text: &str) -> Json {
    Json::str(text)
}

fn obj(pairs: Vec<(&str, Json)>) -> Json {
    Json::object(pairs)
}

/// A string, the item type of most lists.
fn strings() -> Json {
    obj(vec![("type", s("string"))])
}

fn reference(name: &str) -> Json {
    obj(vec![("$ref", Json::str(format!("#/$defs/{name}")))])
}

/// A string variable, with its default as the role's vars file spells it.
fn string(description: &str, default: Option<&str>) -> Json {
    let mut f = obj(vec![("type", s("string")), ("description", s(description))]);
    if let Some(d) = default {
        f.insert("default", s(d));
    }
    f
}

fn boolean(description: &str, default: bool) -> Json {
    obj(vec![
        ("type", s("boolean")),
        ("description", s(description)),
        ("default", Json::Bool(default)),
    ])
}

/// A list variable (every list defaults to empty in the role).
fn list(description: &str, items: Json) -> Json {
    obj(vec![
        ("type", s("array")),
        ("description", s(description)),
        ("items", items),
        ("default", Json::Array(vec![])),
    ])
}

fn when(description: &str, default: bool) -> Json {
    let mut w = condition(description);
    w.insert("default", Json::Bool(default));
    w
}

/// A condition without a fixed default.
fn condition(description: &str) -> Json {
    obj(vec![
        ("$ref", s("#/$defs/condition")),
        ("description", s(description)),
    ])
}

/// An item object: properties in order, the required ones listed, nothing else allowed.
fn item(description: &str, props: Vec<(&str, Json)>, required: &[&str]) -> Json {
    obj(vec![
        ("type", s("object")),
        ("description", s(description)),
        ("properties", obj(props)),
        (
            "required",
            Json::Array(required.iter().map(|r| s(r)).collect()),
        ),
        ("additionalProperties", Json::Bool(false)),
    ])
}

const POST_BUILD: &str = "Run after `make` (post_build) instead of after the clone (pre-build).";

/// The `$defs` of the schema: the shared `condition`, then the item types of the lists.
fn defs() -> Json {
    obj([base_defs(), edit_defs(), hook_defs()].concat())
}

/// A condition (`when`, group variable overrides) and a `download_extras` item.
fn base_defs() -> Vec<(&'static str, Json)> {
    vec![
        (
            "condition",
            obj(vec![
                (
                    "description",
                    s("A condition: `true`/`false`, or a Jinja expression in `{{ }}` that renders to \
                       one, e.g. \"{{ is_rtems }}\". Group variables such as `is_linux`, `is_rtems`, \
                       `target_arch` may be used."),
                ),
                (
                    "anyOf",
                    Json::Array(vec![
                        obj(vec![("type", s("boolean"))]),
                        obj(vec![("type", s("string")), ("pattern", s(r".*\{\{.*\}\}.*"))]),
                    ]),
                ),
            ]),
        ),
        (
            "download_extra",
            item(
                "A file fetched before the system packages are installed.",
                vec![
                    ("url", string("Where to download the file from.", None)),
                    (
                        "dest",
                        string(
                            "Absolute path to save it to, e.g. /tmp/libhdf5-103.deb (list it in \
                             `apt_developer` to install a .deb).",
                            None,
                        ),
                    ),
                ],
                &["url", "dest"],
            ),
        ),
    ]
}

/// Items of the lists that edit the module's files: `comment_out`, `patch_lines`,
/// `patch_blocks`.
fn edit_defs() -> Vec<(&'static str, Json)> {
    vec![
        (
            "comment_out",
            item(
                "Comments out (prefixes `# ` to) every line of a file that matches a regular expression \
                 and is not already a comment; done before the build.",
                vec![
                    ("path", string("File to edit, relative to the module's `local_path`.", None)),
                    (
                        "regexp",
                        string("Python regular expression; a line containing a match is commented out.", None),
                    ),
                    ("when", when("Only edit when this holds.", true)),
                ],
                &["path", "regexp"],
            ),
        ),
        (
            "patch_line",
            item(
                "Makes sure a line is in a file (Ansible lineinfile): the last line matching `regexp` \
                 is replaced by `line`, or `line` is appended; the file is created if missing.",
                vec![
                    (
                        "path",
                        string(
                            "File to edit, relative to the module's `local_path`; may use group \
                             variables such as \"{{ config_linux_host }}\" \
                             (configure/CONFIG_SITE.linux-x86_64.Common).",
                            None,
                        ),
                    ),
                    ("regexp", string("Python regular expression selecting the line to replace.", None)),
                    ("line", string("The line to write.", None)),
                    ("when", when("Only edit when this holds.", true)),
                    ("post_build", boolean(POST_BUILD, false)),
                ],
                &["path", "regexp", "line"],
            ),
        ),
        (
            "patch_block",
            item(
                "Inserts or updates a block of lines between two marker lines (Ansible blockinfile); \
                 the file is created if missing.",
                vec![
                    ("path", string("File to edit, relative to the module's `local_path`.", None)),
                    ("block", string("The text of the block.", None)),
                    (
                        "insertafter",
                        string(
                            "Where a new block goes: `EOF`, or a regular expression of the line to \
                             insert after.",
                            Some("EOF"),
                        ),
                    ),
                    (
                        "marker",
                        string(
                            "The marker line; `{mark}` becomes BEGIN or END. Post-build blocks always \
                             use the default marker.",
                            Some("# {mark} ANSIBLE MANAGED BLOCK"),
                        ),
                    ),
                    ("when", when("Only edit when this holds.", true)),
                    ("post_build", boolean(POST_BUILD, false)),
                ],
                &["path", "block"],
            ),
        ),
    ]
}

/// Items of the lists that run something around the build: the patch, scripts, bash
/// commands and Ansible task files.
fn hook_defs() -> Vec<(&'static str, Json)> {
    vec![
        (
            "patch_file",
            item(
                "A patch applied with `git apply` right after the clone. The clone is then a full \
                 clone (not depth 1) so that `commit` can be checked out.",
                vec![
                    (
                        "path",
                        string("The patch file, relative to the module's ibek-support folder.", None),
                    ),
                    (
                        "commit",
                        string(
                            "Commit to check out before applying the patch (instead of `version`).",
                            None,
                        ),
                    ),
                    ("when", when("The patch is applied only when this holds.", false)),
                ],
                &["path"],
            ),
        ),
        (
            "script",
            item(
                "A bash script run in the module's `local_path`.",
                vec![
                    (
                        "path",
                        string("The script, relative to the module's ibek-support folder.", None),
                    ),
                    ("post_build", boolean(POST_BUILD, false)),
                    (
                        "when",
                        when(
                            "Accepted for symmetry with the other items; ibek-support's role does not \
                             evaluate it, so the script always runs.",
                            true,
                        ),
                    ),
                ],
                &["path"],
            ),
        ),
        (
            "bash",
            item(
                "A bash command run in the module's `local_path`.",
                vec![
                    ("cmd", string("The command line; may use Jinja variables.", None)),
                    ("when", when("Only run when this holds.", true)),
                    ("post_build", boolean(POST_BUILD, false)),
                ],
                &["cmd"],
            ),
        ),
        (
            "task",
            item(
                "An Ansible task file included in the build.",
                vec![
                    (
                        "path",
                        string("The task file, relative to the module's ibek-support folder.", None),
                    ),
                    ("when", when("Only include it when this holds.", true)),
                    ("post_build", boolean(POST_BUILD, false)),
                ],
                &["path"],
            ),
        ),
    ]
}

/// The JSON schema of ibek-support `*.install.yml` files.
pub fn install_schema() -> Json {
    let properties = obj([source_properties(), build_properties(), step_properties()].concat());
    obj(vec![
        ("$schema", s("https://json-schema.org/draft/2020-12/schema")),
        ("title", s("ibek-support install.yml")),
        (
            "description",
            s(
                "How to build one support module in an epics-containers generic IOC image: the \
               variables of ibek-support's `support` Ansible role, set in \
               ibek-support/<module>/<module>.install.yml.",
            ),
        ),
        ("type", s("object")),
        ("required", Json::Array(vec![s("module"), s("version")])),
        ("properties", properties),
        ("additionalProperties", Json::Bool(false)),
        ("$defs", defs()),
    ])
}

/// Properties naming the module and where it comes from: module, version, what it
/// publishes, the repository, the clone folder and its RELEASE macro.
fn source_properties() -> Vec<(&'static str, Json)> {
    vec![
        (
            "module",
            obj(vec![
                ("type", s("string")),
                ("minLength", Json::Int(1)),
                (
                    "description",
                    s("The support module's name: the ibek-support folder, the clone folder \
                       (/epics/support/<module>) and the default repository name."),
                ),
            ]),
        ),
        (
            "version",
            obj(vec![
                ("type", s("string")),
                ("minLength", Json::Int(1)),
                (
                    "description",
                    s("The git tag, branch or commit to clone. Quote numeric versions: YAML reads \
                       3.10 as the number 3.1."),
                ),
            ]),
        ),
        (
            "dbds",
            list(
                "DBD files the module publishes; each is added to configure/dbd_list, from which \
                 the IOC's DBD is built.",
                strings(),
            ),
        ),
        (
            "libs",
            list(
                "Libraries the module publishes (names without `lib` and suffix); each is added to \
                 configure/lib_list, which the IOC links against.",
                strings(),
            ),
        ),
        (
            "organization",
            string(
                "URL prefix of the git repository; the repository is <organization>/<module>.",
                Some("https://github.com/epics-modules"),
            ),
        ),
        (
            "git_repo",
            string(
                "The git repository to clone, when it is not <organization>/<module>.",
                Some("{{ organization.rstrip('/') }}/{{ module }}"),
            ),
        ),
        (
            "recursive",
            boolean("Clone git submodules too (`git clone --recursive`).", false),
        ),
        (
            "local_path",
            string(
                "Where the module is cloned and built.",
                Some("{{ support_folder }}/{{ module }}"),
            ),
        ),
        (
            "macro",
            string(
                "The macro naming this module in the global configure/RELEASE and in RELEASE.shell.",
                Some("{{ module | replace('-', '_') | upper }}"),
            ),
        ),
    ]
}

/// Properties shaping the build: RELEASE macros, make options, system packages,
/// downloads and files carried into the runtime stage.
fn build_properties() -> Vec<(&'static str, Json)> {
    vec![
        (
            "remove_macros",
            list(
                "Macros to blank (`MACRO =`) in the global configure/RELEASE unless a module \
                 already built sets them, so that optional dependencies are left out.",
                strings(),
            ),
        ),
        (
            "extra_release_macros",
            obj(vec![
                ("type", s("object")),
                (
                    "description",
                    s("Extra `NAME=value` lines for the global configure/RELEASE, e.g. \
                       AREA_DETECTOR: \"$(SUPPORT)\"."),
                ),
                (
                    "additionalProperties",
                    obj(vec![(
                        "type",
                        Json::Array(vec![s("string"), s("number")]),
                    )]),
                ),
                ("default", Json::empty_object()),
            ]),
        ),
        (
            "make_options",
            string(
                "Arguments for `make` when building the module.",
                Some("-j{{ ansible_processor_vcpus }}"),
            ),
        ),
        (
            "apt_developer",
            list(
                "System packages for the developer (build) stage: package names, or absolute paths \
                 of .deb files (e.g. fetched by `download_extras`).",
                strings(),
            ),
        ),
        (
            "apt_runtime",
            list(
                "System packages for the runtime stage; added to configure/runtime_debs.",
                strings(),
            ),
        ),
        (
            "download_extras",
            list(
                "Files to download before the system packages are installed.",
                reference("download_extra"),
            ),
        ),
        (
            "runtime_files",
            list(
                "Absolute paths of extra files or folders to copy from the developer stage into the \
                 runtime stage; added to configure/runtime_files_list.",
                strings(),
            ),
        ),
        (
            "protocol_files",
            list(
                "StreamDevice protocol files, relative to the module's `local_path`, copied to \
                 /epics/support/configure/protocol.",
                strings(),
            ),
        ),
        (
            "remove_files_prebuild",
            list(
                "Files to delete before the build, relative to the module's `local_path` (e.g. \
                 configure/*.local files committed by mistake).",
                strings(),
            ),
        ),
    ]
}

/// Properties listing the steps around `make` (edits, patch, scripts, tasks) and the
/// switches and group variable overrides of one module.
fn step_properties() -> Vec<(&'static str, Json)> {
    vec![
        (
            "comment_out",
            list("Lines to comment out before the build.", reference("comment_out")),
        ),
        (
            "patch_lines",
            list("Single lines to set in files.", reference("patch_line")),
        ),
        (
            "patch_blocks",
            list("Blocks of lines to set in files.", reference("patch_block")),
        ),
        ("patch_file", {
            let mut p = reference("patch_file");
            p.insert(
                "description",
                s("A patch file to apply after cloning; applied only when its `when` holds."),
            );
            p
        }),
        (
            "scripts",
            list("Bash scripts to run before or after the build.", reference("script")),
        ),
        (
            "bash",
            list("Bash commands to run before or after the build.", reference("bash")),
        ),
        (
            "tasks",
            list("Ansible task files to include before or after the build.", reference("task")),
        ),
        (
            "skip_clean",
            boolean("Leave the build products in place (skip `make clean` after the build).", false),
        ),
        (
            "skip_apt",
            boolean("Skip installing system packages (speeds up repeated builds).", false),
        ),
        (
            "is_linux",
            condition(
                "Override of the group variable for this module only (normally true when \
                 EPICS_TARGET_ARCH contains `linux`).",
            ),
        ),
        (
            "is_rtems",
            condition(
                "Override of the group variable for this module only (normally true when \
                 EPICS_TARGET_ARCH contains `RTEMS`); `false` builds for the host in an RTEMS image.",
            ),
        ),
    ]
}
