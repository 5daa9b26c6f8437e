//! A small, safe XML tree: what WeCom's callback XML needs and nothing more.
//!
//! One forward pass over the text, borrowing names and (usually) texts from the input.
//! Parsing refuses DTDs (`<!DOCTYPE ...>`) and every entity reference other than XML's five
//! predefined ones and character references, limits nesting depth, and never recurses, so
//! hostile input can neither expand entities nor exhaust the stack. Attributes are skipped
//! (WeCom's callback XML has none); whitespace-only text inside an element that has child
//! elements (indentation) is dropped.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::error::{CallbackError, clip};

/// Deepest nesting accepted (WeCom's deepest callback, an approval, nests about 7 levels).
pub const MAX_DEPTH: usize = 32;

/// One XML element: its name, its text (CDATA and text concatenated) and its child elements.
///
/// Used for the parts of a callback that are kept as a tree rather than typed (for example an
/// approval's `ApprovalInfo`), and for the raw XML of unknown callbacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Tag name, e.g. `ApprovalInfo`.
    pub name: String,
    /// Text content (unescaped); usually empty when the element has children.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// An element with text and no children.
    pub fn leaf(name: impl Into<String>, text: impl Into<String>) -> Self {
        Element {
            name: name.into(),
            text: text.into(),
            children: Vec::new(),
        }
    }

    /// An element with children and no text.
    pub fn node(name: impl Into<String>, children: Vec<Element>) -> Self {
        Element {
            name: name.into(),
            text: String::new(),
            children,
        }
    }

    /// Parse a document; the root element is returned.
    ///
    /// Refuses DTDs, custom entities, unbalanced tags, text outside the root and nesting
    /// deeper than [`MAX_DEPTH`].
    ///
    /// ```
    /// use wecom_callback::xml::Element;
    /// let root = Element::parse("<xml><A><![CDATA[x]]></A><B>1 &lt; 2</B></xml>").unwrap();
    /// assert_eq!(root.text_of("A"), Some("x"));
    /// assert_eq!(root.text_of("B"), Some("1 < 2"));
    /// assert!(Element::parse("<!DOCTYPE x [<!ENTITY e 'boom'>]><xml>&e;</xml>").is_err());
    /// ```
    pub fn parse(xml: &str) -> Result<Element, CallbackError> {
        Doc::parse(xml).map(|doc| doc.root().to_element())
    }

    /// The first child with this name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children with this name, in order.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child with this name.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// Render as XML (text as CDATA where it needs escaping). Never recurses.
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(64);
        self.write_xml(&mut out);
        out
    }

    /// Append this element's XML to `out`.
    pub fn write_xml(&self, out: &mut String) {
        // (element, index of the next child to write)
        let mut stack: Vec<(&Element, usize)> = vec![(self, 0)];
        open_tag(out, &self.name);
        push_text_value(out, &self.text);
        while let Some((element, next)) = stack.last_mut() {
            if let Some(child) = element.children.get(*next) {
                *next += 1;
                open_tag(out, &child.name);
                push_text_value(out, &child.text);
                stack.push((child, 0));
            } else {
                close_tag(out, &element.name);
                stack.pop();
            }
        }
    }
}

/// No node (end of a sibling or child list).
const NONE: u32 = u32::MAX;

/// The borrowed tree the parsers work on: every node in one vector, linked by index, names
/// and (usually) texts pointing into the input. Parsing a callback allocates once.
#[derive(Debug)]
pub(crate) struct Doc<'a> {
    nodes: Vec<NodeData<'a>>,
}

#[derive(Debug)]
struct NodeData<'a> {
    name: &'a str,
    text: Cow<'a, str>,
    first_child: u32,
    last_child: u32,
    next_sibling: u32,
}

/// A node of a [`Doc`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node<'d, 'a> {
    doc: &'d Doc<'a>,
    index: u32,
}

impl<'a> Doc<'a> {
    /// See [`Element::parse`].
    pub(crate) fn parse(xml: &'a str) -> Result<Doc<'a>, CallbackError> {
        // About one node per two tags.
        let mut nodes: Vec<NodeData<'a>> = Vec::with_capacity(xml.len() / 40 + 4);
        // Open elements (indices), innermost last; fixed size: no allocation.
        let mut stack = [0u32; MAX_DEPTH];
        let mut depth = 0usize;
        let mut closed_root = false;
        let mut pos = 0;
        while pos < xml.len() {
            let rest = &xml[pos..];
            let lt = if rest.as_bytes()[0] == b'<' {
                0
            } else {
                let Some(lt) = find_byte(rest, b'<') else {
                    push_text(&mut nodes, &stack[..depth], unescape(rest)?)?;
                    break;
                };
                push_text(&mut nodes, &stack[..depth], unescape(&rest[..lt])?)?;
                lt
            };
            let tag = &rest[lt..];
            pos += lt;
            match tag.as_bytes().get(1) {
                Some(b'/') => {
                    let body = &tag[2..];
                    let end = find_byte(body, b'>')
                        .ok_or_else(|| CallbackError::parse("unterminated closing tag"))?;
                    let name = body[..end].trim_end();
                    let Some(open) = depth.checked_sub(1) else {
                        return Err(CallbackError::parse("unexpected closing tag"));
                    };
                    let node = &mut nodes[stack[open] as usize];
                    if node.name != name {
                        return Err(CallbackError::parse(format!(
                            "closing tag </{}> does not match <{}>",
                            clip(name, 40),
                            clip(node.name, 40)
                        )));
                    }
                    if node.first_child != NONE && node.text.trim().is_empty() {
                        node.text = Cow::Borrowed("");
                    }
                    depth = open;
                    closed_root |= depth == 0;
                    pos += 2 + end + 1;
                }
                Some(b'!') => {
                    if let Some(body) = tag.strip_prefix("<![CDATA[") {
                        let end = find_seq(body, "]]>")
                            .ok_or_else(|| CallbackError::parse("unterminated CDATA section"))?;
                        if depth == 0 {
                            return Err(CallbackError::parse("CDATA outside the root element"));
                        }
                        push_text(&mut nodes, &stack[..depth], Cow::Borrowed(&body[..end]))?;
                        pos += "<![CDATA[".len() + end + "]]>".len();
                    } else if let Some(body) = tag.strip_prefix("<!--") {
                        let end = find_seq(body, "-->")
                            .ok_or_else(|| CallbackError::parse("unterminated comment"))?;
                        pos += "<!--".len() + end + "-->".len();
                    } else {
                        return Err(CallbackError::parse(
                            "DTDs and declarations (<!DOCTYPE ...>, <!ENTITY ...>) are refused",
                        ));
                    }
                }
                Some(b'?') => {
                    let end = find_seq(&tag[2..], "?>").ok_or_else(|| {
                        CallbackError::parse("unterminated processing instruction")
                    })?;
                    pos += 2 + end + 2;
                }
                _ => {
                    let (name, len, empty) = open_tag_at(tag)?;
                    if closed_root {
                        return Err(CallbackError::parse("content after the root element"));
                    }
                    if !empty && depth >= MAX_DEPTH {
                        return Err(CallbackError::parse(format!(
                            "XML nested deeper than {MAX_DEPTH} levels"
                        )));
                    }
                    let index = u32::try_from(nodes.len())
                        .map_err(|_| CallbackError::parse("too many elements"))?;
                    nodes.push(NodeData {
                        name,
                        text: Cow::Borrowed(""),
                        first_child: NONE,
                        last_child: NONE,
                        next_sibling: NONE,
                    });
                    if let Some(&parent) = stack[..depth].last() {
                        let previous = nodes[parent as usize].last_child;
                        if previous == NONE {
                            nodes[parent as usize].first_child = index;
                        } else {
                            nodes[previous as usize].next_sibling = index;
                        }
                        nodes[parent as usize].last_child = index;
                    }
                    if empty {
                        closed_root |= depth == 0;
                    } else {
                        stack[depth] = index;
                        depth += 1;
                    }
                    pos += len;
                }
            }
        }
        if depth != 0 {
            return Err(CallbackError::parse("unclosed element at end of input"));
        }
        if nodes.is_empty() {
            return Err(CallbackError::parse("no root element"));
        }
        Ok(Doc { nodes })
    }

    /// The root element (a parsed `Doc` always has one).
    pub(crate) fn root(&self) -> Node<'_, 'a> {
        Node {
            doc: self,
            index: 0,
        }
    }

    /// Move out the text of the root's first child named `name`.
    pub(crate) fn take_root_child_text(&mut self, name: &str) -> Option<Cow<'a, str>> {
        let index = self.root().child(name)?.index;
        Some(std::mem::take(&mut self.nodes[index as usize].text))
    }
}

impl<'d, 'a> Node<'d, 'a> {
    fn data(self) -> &'d NodeData<'a> {
        &self.doc.nodes[self.index as usize]
    }

    pub(crate) fn name(self) -> &'d str {
        self.data().name
    }

    pub(crate) fn text(self) -> &'d str {
        &self.data().text
    }

    /// Child elements in order.
    pub(crate) fn children(self) -> impl Iterator<Item = Node<'d, 'a>> + use<'d, 'a> {
        let doc = self.doc;
        let mut next = self.data().first_child;
        std::iter::from_fn(move || {
            let index = next;
            let node = doc.nodes.get(index as usize)?;
            next = node.next_sibling;
            Some(Node { doc, index })
        })
    }

    pub(crate) fn child(&self, name: &str) -> Option<Node<'d, 'a>> {
        self.children().find(|c| c.name() == name)
    }

    pub(crate) fn children_named<'n>(
        self,
        name: &'n str,
    ) -> impl Iterator<Item = Node<'d, 'a>> + use<'d, 'a, 'n> {
        self.children().filter(move |c| c.name() == name)
    }

    pub(crate) fn text_of(&self, name: &str) -> Option<&'d str> {
        self.child(name).map(|c| c.text())
    }

    /// An owned copy (depth is bounded by [`MAX_DEPTH`], so recursion is safe).
    pub(crate) fn to_element(self) -> Element {
        Element {
            name: self.name().to_owned(),
            text: self.text().to_owned(),
            children: self.children().map(|c| c.to_element()).collect(),
        }
    }
}

/// Position of an ASCII byte: a plain loop over the first 32 bytes (what separates tags is
/// usually short), then the standard library's word-at-a-time search.
fn find_byte(haystack: &str, byte: u8) -> Option<usize> {
    const NEAR: usize = 32;
    let bytes = haystack.as_bytes();
    let near = bytes.len().min(NEAR);
    if let Some(i) = bytes[..near].iter().position(|&b| b == byte) {
        return Some(i);
    }
    // Continue from the next character boundary (an ASCII byte never sits inside a
    // multi-byte character, so nothing is skipped).
    let mut from = near;
    while !haystack.is_char_boundary(from) {
        from += 1;
    }
    haystack
        .get(from..)?
        .find(char::from(byte))
        .map(|i| i + from)
}

/// `haystack.find(needle)` for short ASCII needles, via a byte search for the first byte
/// (cheaper than the general substring searcher's set-up on short inputs).
fn find_seq(haystack: &str, needle: &str) -> Option<usize> {
    let first = *needle.as_bytes().first()?;
    let bytes = haystack.as_bytes();
    let mut from = 0;
    while let Some(i) = find_byte(haystack.get(from..)?, first) {
        let at = from + i;
        if bytes.get(at..at + needle.len()) == Some(needle.as_bytes()) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Parse `<name attr="v" ...>` or `<name/>` at the start of `tag`: the name, the tag's
/// length and whether it is empty. Attributes are skipped (quoted values may contain `>`).
fn open_tag_at(tag: &str) -> Result<(&str, usize, bool), CallbackError> {
    let bytes = tag.as_bytes();
    let name_end = bytes
        .iter()
        .skip(1)
        .position(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>'))
        .map(|p| p + 1)
        .ok_or_else(|| CallbackError::parse("unterminated tag"))?;
    let name = &tag[1..name_end];
    if name.is_empty() || name.contains(['<', '&', '"', '\'', '=', '!', '?']) {
        return Err(CallbackError::parse(format!(
            "invalid element name {:?}",
            clip(name, 40)
        )));
    }
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate().skip(name_end) {
        match (quote, b) {
            (Some(q), b) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'<') => return Err(CallbackError::parse("'<' inside a tag")),
            (None, b'>') => return Ok((name, i + 1, bytes[i - 1] == b'/')),
            (None, _) => {}
        }
    }
    Err(CallbackError::parse("unterminated tag"))
}

/// Text with XML's five predefined entities and character references resolved; any other
/// entity is refused (no DTD can define one here).
fn unescape(text: &str) -> Result<Cow<'_, str>, CallbackError> {
    let Some(first) = find_byte(text, b'&') else {
        return Ok(Cow::Borrowed(text));
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..first]);
    let mut rest = &text[first..];
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after
            .find(';')
            .filter(|&n| n <= 10)
            .ok_or_else(|| CallbackError::parse("'&' without a reference (write &amp;)"))?;
        let entity = &after[..semi];
        let ch = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            _ => {
                let code = if let Some(hex) = entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse::<u32>().ok()
                } else {
                    return Err(CallbackError::parse(
                        "entity references are refused (only &lt; &gt; &amp; &apos; &quot; and &#N; are accepted)",
                    ));
                };
                code.filter(|&c| c != 0)
                    .and_then(char::from_u32)
                    .ok_or_else(|| CallbackError::parse("invalid character reference"))?
            }
        };
        out.push(ch);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

fn push_text<'a>(
    nodes: &mut [NodeData<'a>],
    open: &[u32],
    text: Cow<'a, str>,
) -> Result<(), CallbackError> {
    match open.last().and_then(|&i| nodes.get_mut(i as usize)) {
        Some(top) if top.text.is_empty() => top.text = text,
        // Indentation between child elements: not content.
        Some(top) if top.first_child != NONE && text.trim().is_empty() => {}
        Some(top) => top.text.to_mut().push_str(&text),
        None if text.trim().is_empty() => {}
        None => return Err(CallbackError::parse("text outside the root element")),
    }
    Ok(())
}

pub(crate) fn open_tag(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

pub(crate) fn close_tag(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Text as-is when safe, otherwise as CDATA.
fn push_text_value(out: &mut String, text: &str) {
    if text.contains(['<', '&', '>', '\r']) {
        push_cdata_value(out, text);
    } else {
        out.push_str(text);
    }
}

/// `<![CDATA[text]]>`, splitting any `]]>` inside the text so it stays one value.
pub(crate) fn push_cdata_value(out: &mut String, text: &str) {
    out.push_str("<![CDATA[");
    let mut rest = text;
    while let Some(at) = rest.find("]]>") {
        out.push_str(&rest[..at + 2]);
        out.push_str("]]><![CDATA[");
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    out.push_str("]]>");
}

/// `<name><![CDATA[text]]></name>`.
pub(crate) fn push_cdata(out: &mut String, name: &str, text: &str) {
    open_tag(out, name);
    push_cdata_value(out, text);
    close_tag(out, name);
}

/// `<name>value</name>` for numbers.
pub(crate) fn push_num(out: &mut String, name: &str, value: impl std::fmt::Display) {
    open_tag(out, name);
    // Writing to a String cannot fail.
    let _ = write!(out, "{value}");
    close_tag(out, name);
}
