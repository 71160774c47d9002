// The trace types ICP Lens draws (scatter is in the core); build.sh lists them in the
// bundle's banner, which tests/unit/test_plotly_bundle.py checks against app/.
'use strict';

var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/heatmap'),
    require('plotly.js/lib/waterfall'),
]);

module.exports = Plotly;
