// Stand-in for the native `canvas` package (see package.json): only jsroot's drawing code would load it.
throw new Error('canvas is not available in topoflow (TTree reading does not need it)');
