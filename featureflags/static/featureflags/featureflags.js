/*
 * featureflags.js: the browser client of the featureflags client endpoint. No dependencies.
 *
 *   <script src="/static/featureflags/featureflags.js"></script>
 *   <script>
 *     const flags = featureflags.init({
 *       url: "/api/flags/client",         // the default
 *       key: "ff_...",                    // an evaluate-scoped key; omit to use the session
 *       context: {user_id: "42", region: "US"},  // user_id only counts with a key (and userHash);
 *                                         // other attributes only if in FEATUREFLAGS["CLIENT_ATTRIBUTES"]
 *       userHash: "{% feature_flags_secure_hash user_id %}",  // secure mode: the backend's signature
 *       refreshInterval: 30,              // seconds; 0 turns refreshing off
 *     });
 *     flags.ready.then(() => {
 *       if (flags.isEnabled("new_ui")) { ... }
 *       const colour = flags.variant("checkout", "control");
 *       const layout = flags.value("checkout_layout", "single_page");  // the typed value
 *     });
 *     flags.onChange((values) => { ... });
 *   </script>
 *
 * Answers come from the last fetched results: isEnabled/variant/value never wait and
 * never throw; before the first answer (or for an unknown flag) they give the
 * fallback. A failed refresh keeps the last results. Refreshes send the last
 * ETag, so an unchanged answer is a 304 with no body. Only flags marked client-side
 * are ever answered; the server decides who the user is and what they are (staff, address).
 */
(function (root) {
  "use strict";

  function FeatureFlags(options) {
    options = options || {};
    this.url = options.url || "/api/flags/client";
    this.key = options.key || null;
    this.context = options.context || {};
    this.userHash = options.userHash || null;
    this.keys = options.keys || null;
    this.refreshInterval = options.refreshInterval === undefined ? 30 : options.refreshInterval;
    this.values = options.bootstrap || {};
    this.version = null;
    this.etag = null;
    this.error = null;
    this.listeners = [];
    this.timer = null;
    this.ready = null;
  }

  FeatureFlags.prototype.isEnabled = function (key, fallback) {
    var value = this.values[key];
    return value ? value.enabled === true : fallback === true;
  };

  FeatureFlags.prototype.variant = function (key, fallback) {
    var value = this.values[key];
    var chosen = value && value.enabled ? value.variant : null;
    return chosen === null || chosen === undefined ? (fallback === undefined ? null : fallback) : chosen;
  };

  FeatureFlags.prototype.value = function (key, fallback) {
    var answer = this.values[key];
    var served = answer && answer.enabled ? answer.value : null;
    if (served === null || served === undefined) return fallback === undefined ? null : fallback;
    // A copy of an object or list, so a caller's change cannot alter the next answer.
    return typeof served === "object" ? JSON.parse(JSON.stringify(served)) : served;
  };

  FeatureFlags.prototype.all = function () {
    return JSON.parse(JSON.stringify(this.values));
  };

  FeatureFlags.prototype.onChange = function (listener) {
    this.listeners.push(listener);
    var listeners = this.listeners;
    return function unsubscribe() {
      var index = listeners.indexOf(listener);
      if (index >= 0) listeners.splice(index, 1);
    };
  };

  FeatureFlags.prototype.setContext = function (context, userHash) {
    this.context = context || {};
    this.userHash = userHash || null; // a new user_id needs its own signature
    this.etag = null; // another context is another answer
    return this.refresh();
  };

  FeatureFlags.prototype.requestUrl = function () {
    var params = [];
    var context = this.context;
    Object.keys(context).forEach(function (name) {
      var value = context[name];
      if (value !== null && value !== undefined) {
        params.push(encodeURIComponent(name) + "=" + encodeURIComponent(String(value)));
      }
    });
    if (this.userHash) params.push("user_hash=" + encodeURIComponent(this.userHash));
    if (this.keys) params.push("keys=" + encodeURIComponent(this.keys.join(",")));
    return this.url + (params.length ? (this.url.indexOf("?") >= 0 ? "&" : "?") + params.join("&") : "");
  };

  FeatureFlags.prototype.refresh = function () {
    var self = this;
    var headers = { Accept: "application/json" };
    if (self.key) headers.Authorization = "Bearer " + self.key;
    if (self.etag) headers["If-None-Match"] = self.etag;
    // The ETag is handled here, so the browser's own cache is bypassed.
    return fetch(self.requestUrl(), { headers: headers, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 304) return null;
        if (!response.ok) throw new Error("featureflags: HTTP " + response.status);
        self.etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (body) {
        self.error = null;
        if (!body) return self.values;
        var changed = JSON.stringify(body.flags) !== JSON.stringify(self.values);
        self.values = body.flags || {};
        self.version = body.version;
        if (changed) {
          self.listeners.slice().forEach(function (listener) {
            try {
              listener(self.all());
            } catch (error) {
              if (root.console) root.console.error(error);
            }
          });
        }
        return self.values;
      })
      .catch(function (error) {
        self.error = error; // keep serving the last results
        return self.values;
      });
  };

  FeatureFlags.prototype.start = function () {
    var self = this;
    self.stop();
    self.ready = self.refresh();
    if (self.refreshInterval > 0) {
      self.timer = setInterval(function () {
        self.refresh();
      }, self.refreshInterval * 1000);
    }
    return self.ready;
  };

  FeatureFlags.prototype.stop = function () {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  };

  root.featureflags = {
    FeatureFlags: FeatureFlags,
    init: function (options) {
      var flags = new FeatureFlags(options);
      flags.start();
      return flags;
    },
  };
})(typeof window !== "undefined" ? window : this);
