//! The Kore.ai definition model: splitting, merging, exports and assembling.
use super::*;
use crate::ErrorCode;

fn definition() -> Value {
    json!({
        "_id": "st-1", "defaultLanguage": "en", "localeData": {"en": {"name": "Demo"}},
        "botEvents": {"WELCOME_MESSAGE_EVENT": {"enabled": true}},
        "dialogComponents": [{"_id": "dc-1", "refId": "r-dc-1", "name": "Intent", "type": "intent"}],
        "dialogs": [{"_id": "dg-1", "refId": "r-dg-1", "lname": "greet", "localeData": {"en": {"name": "Greet"}},
                     "nodes": [{"nodeId": "intent0", "componentId": "dc-1"}]}],
        "forms": [{"refId": "r-f-1", "name": "Survey"}],
        "patterns": [{"refId": "r-dg-1", "value": "hi"}],
        "color": "#009dab"
    })
}

#[test]
fn split_logs_in_kore_order_and_assembles_back() {
    let files =
        KoreFiles { definition: definition(), config: Some(json!({"name": "Demo"})), ..KoreFiles::default() };
    let split = split(&files, "Demo");
    let types: Vec<_> = split.logs.iter().map(|l| format!("{}:{}", l.task_type, l.task_name)).collect();
    assert_eq!(
        types,
        [
            "Bot Definition:Demo",
            "IdpConfigurations:IdpConfigurations",
            "CustomTemplates:CustomTemplates",
            "BotFunctions:Bot Functions",
            "Dialog:Greet",
            "Form:Survey",
            "Event:WELCOME_MESSAGE_EVENT",
            "KnowledgeTasks:KnowledgeTasks",
            "Utterences:Utterences",
            "Patterns:Patterns",
            "BotVariables:BotVariables",
            "SmallTalk:SmallTalk"
        ]
    );
    let files_back = assemble(&split.components, "x", "Demo");
    let mut expected = definition();
    for key in [
        "idpConfigurations",
        "customTemplates",
        "widgets",
        "panels",
        "knowledgeTasks",
        "sentences",
        "contentVariables",
        "smallTalk",
    ] {
        expected[key] = json!([]);
    }
    assert_eq!(files_back.definition, expected);
    assert_eq!(files_back.config, Some(json!({"name": "Demo"})));
}

#[test]
fn broken_components_are_logged_failed() {
    let mut bad = definition();
    bad["dialogs"][0]["nodes"][0]["componentId"] = json!("dc-missing");
    bad["forms"] = json!([{"name": "NoRef"}]);
    let split = split(&KoreFiles { definition: bad, ..KoreFiles::default() }, "Demo");
    let failed: Vec<_> =
        split.logs.iter().filter(|l| l.is_failed()).map(|l| l.reason.clone().unwrap()).collect();
    assert_eq!(failed, ["node intent0 refers to the missing component dc-missing", "it has no refId"]);
}

#[test]
fn incremental_imports_match_by_ref_id() {
    let old = split(&KoreFiles { definition: definition(), ..KoreFiles::default() }, "Demo").components;
    let mut changed = definition();
    changed["dialogs"][0]["lname"] = json!("greet2");
    changed["forms"] = json!([{"refId": "r-f-2", "name": "Other"}]);
    changed["patterns"] = json!([{"refId": "r-dg-1", "value": "hello"}]);
    let new = split(&KoreFiles { definition: changed, ..KoreFiles::default() }, "Demo").components;
    let options = ImportOptions::default();
    let merged = merge(old.clone(), new.clone(), Some(&options));
    let forms: Vec<_> =
        merged.iter().filter(|c| c.kind == ComponentKind::Form).map(|c| c.name.clone()).collect();
    assert_eq!(forms, ["Survey", "Other"]);
    let dialog = merged.iter().find(|c| c.kind == ComponentKind::Dialog).unwrap();
    assert_eq!(dialog.document["lname"], "greet2");
    assert_eq!(merged.iter().filter(|c| c.kind == ComponentKind::Pattern).count(), 2);
    let replace: ImportOptions =
        serde_json::from_value(json!({"options": {"patterns": {"replace": true}}})).unwrap();
    let merged = merge(old.clone(), new.clone(), Some(&replace));
    assert_eq!(merged.iter().filter(|c| c.kind == ComponentKind::Pattern).count(), 1);
    let only_forms: ImportOptions =
        serde_json::from_value(json!({"tasks": ["forms"], "nlpData": [], "settings": []})).unwrap();
    let merged = merge(old.clone(), new, Some(&only_forms));
    assert_eq!(merged.iter().find(|c| c.kind == ComponentKind::Dialog).unwrap().document["lname"], "greet");
    assert_eq!(merge(old.clone(), Vec::new(), None), Vec::<Component>::new());
}

#[test]
fn only_documents_with_a_default_language_and_its_locale_are_bot_definitions() {
    assert_eq!(check_definition(&definition()), Ok(()));
    for not_a_bot in [
        json!({"foo": 1}),
        json!({"defaultLanguage": "en", "localeData": {"es": {"name": "x"}}}),
        json!({"defaultLanguage": "", "localeData": {"": {}}}),
        json!({"localeData": {"en": {"name": "x"}}, "dialogs": []}),
    ] {
        let reason = check_definition(&not_a_bot).unwrap_err();
        assert!(reason.starts_with("botDefinition is not a Kore.ai bot definition"), "{reason}");
    }
    let config = check_definition(&json!({"name": "Vaxie", "envVariables": []})).unwrap_err();
    assert!(config.ends_with("(this is a config.json: give it as configInfo)"), "{config}");
    assert_eq!(check_definition(&json!([1])).unwrap_err(), "botDefinition is not a JSON object");
    let split = split(&KoreFiles { definition: json!({"foo": 1}), ..KoreFiles::default() }, "X");
    assert!(split.components.is_empty());
    assert_eq!(split.failures(), 1);
}

fn options(raw: Value) -> ImportOptions {
    serde_json::from_value(raw).unwrap()
}

fn settings_of(components: &[Component]) -> Value {
    components.iter().find(|c| c.kind == ComponentKind::Settings).unwrap().document.clone()
}

#[test]
fn incremental_imports_change_only_the_settings_chosen() {
    let mut first = definition();
    first["ivrSettings"] = json!({"enabled": false});
    first["mlParams"] = json!([{"v": 1}]);
    let old = split(&KoreFiles { definition: first.clone(), ..KoreFiles::default() }, "Demo").components;
    let mut second = definition();
    second["_id"] = json!("st-other");
    second["color"] = json!("#ffffff");
    second["ivrSettings"] = json!({"enabled": true});
    second["mlParams"] = json!([{"v": 2}]);
    second["dialogs"][0]["lname"] = json!("greet2");
    let new = split(&KoreFiles { definition: second, ..KoreFiles::default() }, "Demo").components;

    let tasks = merge(old.clone(), new.clone(), Some(&options(json!({"tasks": ["botTask"]}))));
    assert_eq!(settings_of(&tasks), settings_of(&old), "the settings are untouched");
    let dialog = tasks.iter().find(|c| c.kind == ComponentKind::Dialog).unwrap();
    assert_eq!(dialog.document["lname"], "greet2");

    let ivr = merge(old.clone(), new.clone(), Some(&options(json!({"settings": ["ivrSettings"]}))));
    let settings = settings_of(&ivr);
    assert_eq!(settings["ivrSettings"], json!({"enabled": true}));
    assert_eq!(settings["color"], "#009dab", "bot settings are not chosen");
    assert_eq!(settings["mlParams"], json!([{"v": 1}]), "NLP settings are not chosen");
    assert_eq!(settings["_id"], "st-1", "the bot's identity is kept");
    let dialog = ivr.iter().find(|c| c.kind == ComponentKind::Dialog).unwrap();
    assert_eq!(dialog.document["lname"], "greet", "tasks are not chosen");

    let everything = merge(old.clone(), new.clone(), Some(&options(json!({}))));
    assert_eq!(settings_of(&everything)["color"], "#ffffff");
    assert_eq!(settings_of(&everything)["_id"], "st-1");
}

#[test]
fn incremental_imports_log_and_check_only_what_they_take() {
    let mut file = definition();
    file["patterns"] = json!("not a list");
    let files = KoreFiles { definition: file, icon: Some(b"GIF89a".to_vec()), ..KoreFiles::default() };
    let forms = options(json!({"tasks": ["forms"]}));
    let mut restricted = files.clone();
    forms.restrict_files(&mut restricted);
    assert_eq!(restricted.icon, None, "the icon is a bot setting");
    let taken = forms.restrict(split(&restricted, "Demo"));
    let logs: Vec<_> = taken.logs.iter().map(|l| format!("{}:{}", l.task_type, l.task_name)).collect();
    assert_eq!(logs, ["Form:Survey"]);
    assert_eq!(taken.failures(), 0);
    let kinds: Vec<_> = taken.components.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [ComponentKind::Settings, ComponentKind::Form]);

    let patterns = options(json!({"nlpData": ["patterns"]}));
    let taken = patterns.restrict(split(&files, "Demo"));
    assert_eq!(taken.failures(), 1, "{:?}", taken.logs);
    assert_eq!(taken.logs.len(), 1);
    assert!(options(json!({"tasks": ["botTasks"]})).choice.check("importOptions").is_err());
    assert!(options(json!({"nlpData": ["TRAINING_DATA"]})).choice.check("importOptions").is_ok());
}

/// Two dialogs, the first leading to the second (a sub-intent) and filling a form; a third
/// alone; patterns of each.
fn linked() -> Vec<Component> {
    let definition = json!({
        "_id": "st-1", "refId": "r-bot", "defaultLanguage": "en", "localeData": {"en": {"name": "Demo"}},
        "color": "#009dab", "koraResponses": [{"k": 1}], "ivrSettings": {"on": true},
        "alerts": [{"_id": "al-1", "name": "Daily"}, {"_id": "al-2", "name": "Weekly"}],
        "botEvents": {"WELCOME_MESSAGE_EVENT": {"enabled": true}},
        "dialogComponents": [
            {"_id": "dc-1", "refId": "r-dc-1", "type": "intent", "dialogId": "dg-1"},
            {"_id": "dc-2", "refId": "r-dc-2", "type": "intent", "dialogId": "dg-2"},
            {"_id": "dc-3", "refId": "r-dc-3", "type": "form", "resourceId": "r-f-1"},
            {"_id": "dc-4", "refId": "r-dc-4", "type": "intent", "dialogId": "dg-3"}
        ],
        "dialogs": [
            {"_id": "dg-1", "refId": "r-dg-1", "lname": "book", "localeData": {"en": {"name": "Book"}},
             "nodes": [{"nodeId": "intent0", "componentId": "dc-1"}, {"nodeId": "intent1", "componentId": "dc-2"},
                       {"nodeId": "form0", "componentId": "dc-3"}]},
            {"_id": "dg-2", "refId": "r-dg-2", "lname": "pay", "localeData": {"en": {"name": "Pay"}},
             "nodes": [{"nodeId": "intent0", "componentId": "dc-2"}]},
            {"_id": "dg-3", "refId": "r-dg-3", "lname": "other", "localeData": {"en": {"name": "Other"}, "es": {"name": "Otro"}},
             "nodes": [{"nodeId": "intent0", "componentId": "dc-4"}]}
        ],
        "forms": [{"refId": "r-f-1", "name": "Card"}, {"refId": "r-f-2", "name": "Survey"}],
        "patterns": [{"refId": "r-dc-1", "value": "book"}, {"refId": "r-dc-2", "value": "pay"},
                     {"refId": "r-dc-4", "value": "other"}],
        "knowledgeTasks": [{"refId": "r-kg", "name": "FAQ"}],
        "contentVariables": [{"key": "k", "variableType": "env"}]
    });
    let files = KoreFiles {
        definition,
        config: Some(json!({"name": "Demo", "envVariables": [{"key": "k"}]})),
        ..KoreFiles::default()
    };
    let split = split(&files, "Demo");
    assert_eq!(split.failures(), 0, "{:?}", split.logs);
    split.components
}

fn selection(options: Value, sub_tasks: Value, dependent: Option<bool>) -> Result<ExportSelection> {
    let options = (!options.is_null()).then_some(options);
    let sub_tasks = (!sub_tasks.is_null()).then_some(sub_tasks);
    ExportSelection::from_request(options.as_ref(), sub_tasks.as_ref(), None, dependent, None)
}

fn names(definition: &Value, key: &str, field: &str) -> Vec<String> {
    definition[key].as_array().unwrap().iter().map(|v| v[field].as_str().unwrap().to_owned()).collect()
}

#[test]
fn exports_hold_what_their_options_choose() {
    let components = linked();
    let full = selection(Value::Null, Value::Null, None).unwrap();
    assert!(full.is_full());
    assert_eq!(export(&components, "u", "Demo", &full).unwrap(), assemble(&components, "u", "Demo"));

    // Only the knowledge graph: no other lists, no settings; the identity stays.
    let kg = selection(json!({"tasks": ["knowledgeGraph"]}), Value::Null, None).unwrap();
    let files = export(&components, "u", "Demo", &kg).unwrap();
    let keys: Vec<&str> = files.definition.as_object().unwrap().keys().map(String::as_str).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["_id", "defaultLanguage", "exportOptions", "knowledgeTasks", "localeData", "refId"]);
    assert_eq!(
        files.definition["exportOptions"],
        json!({"tasks": ["knowledgeGraph"], "nlpData": [], "settings": [], "IncludeDependentTasks": false})
    );
    assert_eq!(files.config, Some(json!({"name": "Demo", "envVariables": []})));

    // One dialog by name: its components and patterns, no form (none named).
    let book = selection(
        json!({"tasks": ["botTask", "forms"], "nlpData": ["patterns"], "settings": ["ivrSettings"]}),
        json!({"dialogs": ["BOOK"]}),
        None,
    )
    .unwrap();
    let files = export(&components, "u", "Demo", &book).unwrap();
    let d = &files.definition;
    assert_eq!(names(d, "dialogs", "lname"), ["book"]);
    assert_eq!(names(d, "dialogComponents", "_id"), ["dc-1", "dc-2", "dc-3"]);
    assert_eq!(names(d, "patterns", "value"), ["book", "pay"]);
    assert_eq!(d["forms"], json!([]));
    assert_eq!(d["alerts"], json!([]), "no alert named");
    assert_eq!(d["ivrSettings"], json!({"on": true}));
    assert!(d.get("color").is_none() && d.get("koraResponses").is_none() && d.get("botEvents").is_none());
    assert_eq!(
        d["exportOptions"]["subTasks"],
        json!({"dialogs": ["dg-1"], "forms": [], "alerts": [], "actions": []})
    );

    // With its dependent tasks: the dialog it leads to and the form it fills.
    let with_dependents = selection(
        json!({"tasks": ["botTask", "forms"], "nlpData": ["patterns"]}),
        json!({"dialogs": ["r-dg-1"], "alerts": ["Weekly"]}),
        Some(true),
    )
    .unwrap();
    let d = export(&components, "u", "Demo", &with_dependents).unwrap().definition;
    assert_eq!(names(&d, "dialogs", "lname"), ["book", "pay"]);
    assert_eq!(names(&d, "forms", "name"), ["Card"]);
    assert_eq!(names(&d, "alerts", "name"), ["Weekly"]);
    assert_eq!(d["exportOptions"]["IncludeDependentTasks"], true);
    // Nested in exportOptions, as a real export's definition keeps them, they work too.
    let nested = selection(
        json!({"tasks": ["botTask"], "subTasks": {"dialogs": ["Otro"]}, "IncludeDependentTasks": true}),
        Value::Null,
        None,
    )
    .unwrap();
    let d = export(&components, "u", "Demo", &nested).unwrap().definition;
    assert_eq!(names(&d, "dialogs", "lname"), ["other"]);
    assert!(d.get("forms").is_none());

    let unknown = selection(Value::Null, json!({"dialogs": ["nope"]}), None).unwrap();
    let error = unknown.check_against(&components).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidIdentifier);
    assert_eq!(error.message, "subTasks.dialogs: the bot has no dialog \"nope\"");
    let error = selection(json!({"tasks": ["knowledgeGraph"]}), json!({"forms": ["Card"]}), None)
        .unwrap()
        .check_against(&components)
        .unwrap_err();
    assert!(error.message.starts_with("subTasks.forms names tasks that exportOptions.tasks leaves out"));
    assert!(selection(json!({"tasks": ["dialogs"]}), Value::Null, None).is_err());
    assert!(selection(json!({"tasks": [], "settings": []}), Value::Null, None).is_err());
    let none = ExportSelection { all_tasks: Some(false), ..ExportSelection::default() };
    let d = export(&components, "u", "Demo", &none).unwrap().definition;
    assert_eq!((d["dialogs"].clone(), d["forms"].clone()), (json!([]), json!([])));
    assert_eq!(names(&d, "knowledgeTasks", "name"), ["FAQ"]);
}

#[test]
fn base64_round_trips() {
    for bytes in [&b""[..], b"a", b"ab", b"abc", b"\x89PNG\r\n\x1a\n\x00\xff"] {
        assert_eq!(unbase64(&base64(bytes)).unwrap(), bytes);
    }
    assert_eq!(base64(b"ab"), "YWI=");
}
